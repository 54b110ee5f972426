import { Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { sealStoredSecrets } from '@tocsin/delivery-queue';
import { SecretBox } from '@tocsin/secrets';

/** Seals signing secrets an earlier version stored in plaintext, and re-seals ones under a retired key. */
@Injectable()
export class EndpointSecretSealer implements OnApplicationBootstrap {
  private readonly logger = new Logger(EndpointSecretSealer.name);

  constructor(
    private readonly dataSource: DataSource,
    private readonly box: SecretBox,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const sealed = await sealStoredSecrets(this.dataSource.manager, this.box);
    if (sealed > 0) this.logger.log(`sealed ${sealed} endpoint signing secret(s) with key ${this.box.currentKeyId}`);
  }
}
