import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { Counter } from 'prom-client';
import type { TocsinConfig } from '@tocsin/config';
import { relayOutboxBatch, type OutboxRow, type RefusedRows } from '@tocsin/event-store';
import { HEADERS, topicNames } from '@tocsin/contracts';
import { dlqRecords, KafkaProducerService } from '@tocsin/kafka';
import { MetricsRegistry, PollingLoop, sampledGauge, TOCSIN_CONFIG } from '@tocsin/runtime';

/** Publishes committed outbox rows to Kafka in order: on a timer, and at once when nudged after a commit. */
@Injectable()
export class OutboxRelay implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(OutboxRelay.name);
  private readonly loop: PollingLoop;
  private readonly published: Counter<'topic'>;
  private readonly refused: Counter<'topic'>;
  private readonly deadLettered: (reasons: readonly string[]) => void;
  private readonly dlqTopic: string;

  constructor(
    private readonly dataSource: DataSource,
    private readonly producer: KafkaProducerService,
    @Inject(TOCSIN_CONFIG) config: TocsinConfig,
    metrics: MetricsRegistry,
  ) {
    this.loop = new PollingLoop(OutboxRelay.name, config.TOCSIN_OUTBOX_POLL_MS, async () => {
      const relayed = await relayOutboxBatch(this.dataSource, (rows) => this.publish(rows), undefined, (row, reason) => {
        this.refused.inc({ topic: row.topic });
        this.logger.error(`outbox row ${row.id} (${row.topic}, key ${row.key}) set aside: ${reason}`);
      });
      return relayed > 0;
    });
    this.dlqTopic = topicNames(config.TOCSIN_TOPIC_NAMESPACE).probeResultsDlq;
    this.deadLettered = dlqRecords(metrics);
    this.published = new Counter({
      name: 'tocsin_outbox_published_total',
      help: 'Outbox rows published to Kafka, by topic',
      labelNames: ['topic'],
      registers: [metrics],
    });
    this.refused = new Counter({
      name: 'tocsin_outbox_refused_total',
      help: 'Outbox rows Kafka can never take (too large, refused as invalid), set aside with failed_reason',
      labelNames: ['topic'],
      registers: [metrics],
    });
    // Every topic the router writes has its series from the start, so a rate over them starts at 0.
    for (const topic of [topicNames(config.TOCSIN_TOPIC_NAMESPACE).alerts, this.dlqTopic]) {
      this.published.inc({ topic }, 0);
      this.refused.inc({ topic }, 0);
    }
    // Rows set aside with failed_reason are counted by tocsin_outbox_refused_total, not here.
    const waiting = `FROM outbox WHERE published_at IS NULL AND failed_reason IS NULL`;
    sampledGauge(metrics, {
      name: 'tocsin_outbox_backlog',
      help: 'Outbox rows committed and not yet published',
      read: async () => {
        const [row]: Array<{ rows: number }> = await this.dataSource.query(`SELECT count(*)::int AS rows ${waiting}`);
        return [{ labels: {}, value: row?.rows ?? 0 }];
      },
    });
    sampledGauge(metrics, {
      name: 'tocsin_outbox_oldest_age_seconds',
      help: 'Age of the oldest outbox row not yet published (0 when none waits)',
      read: async () => {
        const [row]: Array<{ age: number }> = await this.dataSource.query(
          `SELECT coalesce(extract(epoch FROM now() - min(created_at)), 0)::float8 AS age ${waiting}`,
        );
        return [{ labels: {}, value: Math.max(0, row?.age ?? 0) }];
      },
    });
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.producer.connect();
    this.loop.start();
  }

  nudge(): void {
    this.loop.nudge();
  }

  private async publish(rows: readonly OutboxRow[]): Promise<RefusedRows> {
    const refused = new Map<number, string>();
    const byTopic = new Map<string, OutboxRow[]>();
    for (const row of rows) {
      const topicRows = byTopic.get(row.topic);
      if (topicRows) topicRows.push(row);
      else byTopic.set(row.topic, [row]);
    }
    for (const [topic, topicRows] of byTopic) {
      const refusedHere = await this.producer.sendIsolated(topic, topicRows.map((r) => ({ key: r.key, value: r.value, headers: r.headers })));
      for (const [index, reason] of refusedHere) refused.set(topicRows[index]!.id, reason);
      this.published.inc({ topic }, topicRows.length - refusedHere.size);
      if (topic === this.dlqTopic) {
        this.deadLettered(topicRows.filter((r) => !refused.has(r.id)).map((r) => r.headers[HEADERS.dlqReason] ?? ''));
      }
    }
    return refused;
  }

  async onApplicationShutdown(): Promise<void> {
    await this.loop.stop();
  }
}
