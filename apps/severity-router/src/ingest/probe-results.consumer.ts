import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { Kafka } from 'kafkajs';
import { Counter } from 'prom-client';
import type { TocsinConfig } from '@tocsin/config';
import { topicNames } from '@tocsin/contracts';
import { KafkaTopicsService, TransactionalBatchConsumer, type ConsumedBatch } from '@tocsin/kafka';
import { MetricsRegistry, ReadinessRegistry, TOCSIN_CONFIG } from '@tocsin/runtime';
import { OutboxRelay } from '../outbox/outbox-relay.service';
import { RecordProbeBatchCommand } from './commands/record-probe-batch.command';
import { ROUTER_GROUP } from './commands/record-probe-batch.handler';

/**
 * A backlog is read in batches of up to 1.5 MiB per partition (kafkajs's default is 1 MiB):
 * each fetch round ends when its slowest batch is applied and the next is fetched and
 * decoded before any is applied, so fewer, larger rounds keep the router busy. Larger
 * still (2 MiB) took the peak RSS past 300 MB at 100,000 monitors (docs/benchmarks.md).
 * A router keeping up gets small batches whatever this is.
 */
const FETCH_BYTES_PER_PARTITION = 1.5 * 1024 * 1024;

/** Feeds tocsin.probe-results.v1 into the monitor aggregates, a partition batch at a time. */
@Injectable()
export class ProbeResultsConsumer implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly consumer: TransactionalBatchConsumer;
  private readonly results: Counter<'outcome'>;

  constructor(
    kafka: Kafka,
    private readonly topicsService: KafkaTopicsService,
    private readonly commandBus: CommandBus,
    private readonly relay: OutboxRelay,
    readiness: ReadinessRegistry,
    @Inject(TOCSIN_CONFIG) config: TocsinConfig,
    metrics: MetricsRegistry,
  ) {
    this.consumer = new TransactionalBatchConsumer(kafka, {
      groupId: ROUTER_GROUP(config.TOCSIN_TOPIC_NAMESPACE),
      topic: topicNames(config.TOCSIN_TOPIC_NAMESPACE).probeResults,
      concurrency: config.TOCSIN_ROUTER_CONCURRENCY,
      maxBytesPerPartition: FETCH_BYTES_PER_PARTITION,
    });
    readiness.register('probe-results-consumer', () => this.consumer.joined);
    this.results = new Counter({
      name: 'tocsin_router_probe_results_total',
      help: 'Probe results consumed by the router, by outcome',
      labelNames: ['outcome'],
      registers: [metrics],
    });
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.topicsService.ensureTopics();
    await this.consumer.start((batch) => this.onBatch(batch));
  }

  private async onBatch(batch: ConsumedBatch): Promise<void> {
    const outcome = await this.commandBus.execute(new RecordProbeBatchCommand(batch));
    this.results.inc({ outcome: 'applied' }, outcome.applied);
    this.results.inc({ outcome: 'replayed' }, outcome.replayed);
    this.results.inc({ outcome: 'duplicate' }, outcome.duplicates);
    this.results.inc({ outcome: 'dead_lettered' }, outcome.rejected);
    if (outcome.alerts > 0 || outcome.rejected > 0) this.relay.nudge();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.consumer.stop();
  }
}
