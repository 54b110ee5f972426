import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { Kafka } from 'kafkajs';
import type { TocsinConfig } from '@tocsin/config';
import { topicNames } from '@tocsin/contracts';
import { KafkaTopicsService, TransactionalBatchConsumer, consumerLag, type ConsumedBatch } from '@tocsin/kafka';
import { MetricsRegistry, ReadinessRegistry, TOCSIN_CONFIG } from '@tocsin/runtime';
import { FanOutAlertsCommand } from '../deliveries/commands/fan-out-alerts.command';
import { DISPATCHER_GROUP } from '../deliveries/commands/fan-out-alerts.handler';
import { DeliveryWorker } from '../deliveries/delivery-worker.service';

/** Turns tocsin.alerts.v1 into durable deliveries, then wakes the worker that sends them. */
@Injectable()
export class AlertsConsumer implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly consumer: TransactionalBatchConsumer;

  constructor(
    kafka: Kafka,
    private readonly topicsService: KafkaTopicsService,
    private readonly commandBus: CommandBus,
    private readonly worker: DeliveryWorker,
    readiness: ReadinessRegistry,
    @Inject(TOCSIN_CONFIG) config: TocsinConfig,
    metrics: MetricsRegistry,
  ) {
    const groupId = DISPATCHER_GROUP(config.TOCSIN_TOPIC_NAMESPACE);
    this.consumer = new TransactionalBatchConsumer(kafka, {
      groupId,
      topic: topicNames(config.TOCSIN_TOPIC_NAMESPACE).alerts,
      lag: consumerLag(metrics, groupId),
      sessionTimeoutMs: config.KAFKA_SESSION_TIMEOUT_MS,
    });
    readiness.register('alerts-consumer', () => this.consumer.joined);
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.topicsService.ensureTopics();
    await this.consumer.start((batch) => this.onBatch(batch));
  }

  private async onBatch(batch: ConsumedBatch): Promise<void> {
    const outcome = await this.commandBus.execute(new FanOutAlertsCommand(batch));
    if (outcome.created > 0) this.worker.nudge();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.consumer.stop();
  }
}
