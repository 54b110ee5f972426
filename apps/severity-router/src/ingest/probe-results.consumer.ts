import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { Kafka } from 'kafkajs';
import { Counter, Histogram } from 'prom-client';
import { DataSource } from 'typeorm';
import type { TocsinConfig } from '@tocsin/config';
import { tenantProbeResultsTopic, tenantTopicPattern, topicNames } from '@tocsin/contracts';
import { KafkaTopicsService, TransactionalBatchConsumer, consumerLag, type BatchConsumerOptions, type ConsumedBatch } from '@tocsin/kafka';
import { MetricsRegistry, PollingLoop, ReadinessRegistry, TOCSIN_CONFIG } from '@tocsin/runtime';
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

/**
 * Feeds tocsin.probe-results.v1 into the monitor aggregates, a partition batch at a time.
 * With TOCSIN_TENANT_TOPICS, also every tenant's own topic, by pattern: kafkajs matches a
 * pattern only against the topics that exist when it subscribes, so a refresh creates the
 * topics of new tenants and, when the set grew, subscribes again.
 */
@Injectable()
export class ProbeResultsConsumer implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(ProbeResultsConsumer.name);
  private consumer: TransactionalBatchConsumer;
  private readonly options: BatchConsumerOptions;
  private readonly results: Counter<'outcome'>;
  private readonly batchRecords: Histogram;
  private readonly batchSeconds: Histogram;
  private readonly tenantTopics?: { readonly pattern: RegExp; readonly loop: PollingLoop; subscribed: ReadonlySet<string> };

  constructor(
    private readonly kafka: Kafka,
    private readonly topicsService: KafkaTopicsService,
    private readonly commandBus: CommandBus,
    private readonly relay: OutboxRelay,
    private readonly dataSource: DataSource,
    readiness: ReadinessRegistry,
    @Inject(TOCSIN_CONFIG) private readonly config: TocsinConfig,
    metrics: MetricsRegistry,
  ) {
    const namespace = config.TOCSIN_TOPIC_NAMESPACE;
    const pattern = config.TOCSIN_TENANT_TOPICS ? tenantTopicPattern(namespace) : undefined;
    this.options = {
      groupId: ROUTER_GROUP(namespace),
      topic: topicNames(namespace).probeResults,
      ...(pattern ? { pattern } : {}),
      concurrency: config.TOCSIN_ROUTER_CONCURRENCY,
      maxBytesPerPartition: FETCH_BYTES_PER_PARTITION,
      sessionTimeoutMs: config.KAFKA_SESSION_TIMEOUT_MS,
      // One reporter for every consumer this app makes: a re-subscription keeps the series.
      lag: consumerLag(metrics, ROUTER_GROUP(namespace)),
    };
    this.consumer = new TransactionalBatchConsumer(kafka, this.options);
    if (pattern) {
      const loop = new PollingLoop('tenant-topics', config.TOCSIN_MONITOR_REFRESH_MS, () => this.refreshTenantTopics());
      this.tenantTopics = { pattern, loop, subscribed: new Set() };
    }
    readiness.register('probe-results-consumer', () => this.consumer.joined);
    this.results = new Counter({
      name: 'tocsin_router_probe_results_total',
      help: 'Probe results consumed by the router, by outcome',
      labelNames: ['outcome'],
      registers: [metrics],
    });
    this.batchRecords = new Histogram({
      name: 'tocsin_router_batch_records',
      help: 'Records in each partition batch the router applied',
      buckets: [1, 10, 50, 100, 250, 500, 1000, 2500, 5000, 10000],
      registers: [metrics],
    });
    this.batchSeconds = new Histogram({
      name: 'tocsin_router_batch_seconds',
      help: 'Time to apply one partition batch, its transaction and offset included',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [metrics],
    });
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.topicsService.ensureTopics();
    if (this.tenantTopics) this.tenantTopics.subscribed = await this.ensureTenantTopics();
    await this.consumer.start((batch) => this.onBatch(batch));
    this.tenantTopics?.loop.start();
  }

  /** Creates every tenant's topic that is missing; answers the tenant topics the cluster has. */
  private async ensureTenantTopics(): Promise<ReadonlySet<string>> {
    const tenants: Array<{ id: string }> = await this.dataSource.query('SELECT id FROM tenants');
    const namespace = this.config.TOCSIN_TOPIC_NAMESPACE;
    const all = await this.topicsService.ensureNamed(tenants.map((t) => tenantProbeResultsTopic(namespace, t.id)));
    return new Set(all.filter((topic) => this.tenantTopics!.pattern.test(topic)));
  }

  private async refreshTenantTopics(): Promise<boolean> {
    const topics = await this.ensureTenantTopics();
    const known = this.tenantTopics!.subscribed;
    if ([...topics].every((t) => known.has(t))) return false;
    this.logger.log(`new tenant topics (${[...topics].filter((t) => !known.has(t)).join(', ')}): subscribing again`);
    this.tenantTopics!.subscribed = topics;
    await this.consumer.stop();
    this.consumer = new TransactionalBatchConsumer(this.kafka, this.options);
    await this.consumer.start((batch) => this.onBatch(batch));
    return false;
  }

  private async onBatch(batch: ConsumedBatch): Promise<void> {
    const timer = this.batchSeconds.startTimer();
    const outcome = await this.commandBus.execute(new RecordProbeBatchCommand(batch));
    timer();
    this.batchRecords.observe(batch.records.length);
    this.results.inc({ outcome: 'applied' }, outcome.applied);
    this.results.inc({ outcome: 'replayed' }, outcome.replayed);
    this.results.inc({ outcome: 'duplicate' }, outcome.duplicates);
    this.results.inc({ outcome: 'dead_lettered' }, outcome.rejected);
    if (outcome.alerts > 0 || outcome.rejected > 0) this.relay.nudge();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.tenantTopics?.loop.stop();
    await this.consumer.stop();
  }
}
