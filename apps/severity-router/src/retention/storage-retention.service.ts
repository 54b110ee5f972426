import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { TocsinConfig } from '@tocsin/config';
import { purgeProcessedMessages, purgePublishedOutbox } from '@tocsin/event-store';
import { PollingLoop, TOCSIN_CONFIG } from '@tocsin/runtime';

const PURGE_INTERVAL_MS = 60_000;

/**
 * Keeps the router's storage bounded (DESIGN §3): published outbox rows go after their
 * retention, and so do remembered event ids. Runs a chunk at a time, again at once while
 * there is more to delete, so a backlog drains without one long lock.
 */
@Injectable()
export class StorageRetention implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(StorageRetention.name);
  private readonly loop: PollingLoop;

  constructor(
    private readonly dataSource: DataSource,
    @Inject(TOCSIN_CONFIG) private readonly config: TocsinConfig,
  ) {
    this.loop = new PollingLoop(StorageRetention.name, PURGE_INTERVAL_MS, () => this.purge());
  }

  onApplicationBootstrap(): void {
    this.loop.start();
  }

  /** Returns true while a chunk was full (more to delete). */
  async purge(): Promise<boolean> {
    const outbox = await purgePublishedOutbox(this.dataSource, this.config.TOCSIN_OUTBOX_RETENTION_SECONDS);
    const processed = await purgeProcessedMessages(this.dataSource, this.config.TOCSIN_DEDUP_RETENTION_SECONDS);
    if (outbox + processed > 0) this.logger.log(`purged ${outbox} published outbox rows and ${processed} processed ids`);
    return outbox >= 10_000 || processed >= 10_000;
  }

  async onApplicationShutdown(): Promise<void> {
    await this.loop.stop();
  }
}
