import { Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { describeUnreadable, sealStoredSecrets } from '@tocsin/delivery-queue';
import { SecretBox } from '@tocsin/secrets';

/**
 * Seals secrets an earlier version stored in plaintext, and re-seals ones under a retired
 * key or envelope, in every sealed column. An unreadable row is logged and skipped: the API
 * still starts for every tenant, and that row's own routes say `secret_unreadable`.
 */
@Injectable()
export class EndpointSecretSealer implements OnApplicationBootstrap {
  private readonly logger = new Logger(EndpointSecretSealer.name);

  constructor(
    private readonly dataSource: DataSource,
    private readonly box: SecretBox,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const sealed = await sealStoredSecrets(this.dataSource.manager, this.box, (row) => this.logger.warn(describeUnreadable(row)));
    if (sealed.resealed > 0) this.logger.log(`sealed ${sealed.resealed} stored secret(s) with key ${this.box.currentKeyId}`);
  }
}
