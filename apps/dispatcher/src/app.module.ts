import { Module, type DynamicModule } from '@nestjs/common';
import { CqrsModule } from '@nestjs/cqrs';
import { DataSource } from 'typeorm';
import type { TocsinConfig } from '@tocsin/config';
import { topicNames } from '@tocsin/contracts';
import { EventStore } from '@tocsin/event-store';
import { KafkaModule } from '@tocsin/kafka';
import { databaseModule, HealthModule, loggingModule, TocsinConfigModule } from '@tocsin/runtime';
import { AlertsConsumer } from './alerts/alerts.consumer';
import { FanOutAlertsHandler } from './deliveries/commands/fan-out-alerts.handler';
import { DeliveryRepository } from './deliveries/delivery.repository';
import { DeliveryWorker } from './deliveries/delivery-worker.service';

@Module({})
export class DispatcherModule {
  static forRoot(config: TocsinConfig): DynamicModule {
    return {
      module: DispatcherModule,
      imports: [
        TocsinConfigModule.forRoot(config),
        loggingModule(config, 'dispatcher'),
        databaseModule(config),
        HealthModule,
        CqrsModule.forRoot(),
        KafkaModule.forRoot({
          brokers: config.KAFKA_BROKERS,
          clientId: `${config.KAFKA_CLIENT_ID}-dispatcher`,
          topics: topicNames(config.TOCSIN_TOPIC_NAMESPACE),
          partitions: config.TOCSIN_TOPIC_PARTITIONS,
        }),
      ],
      providers: [
        { provide: EventStore, useFactory: (ds: DataSource) => new EventStore(ds), inject: [DataSource] },
        DeliveryRepository,
        FanOutAlertsHandler,
        DeliveryWorker,
        AlertsConsumer,
      ],
    };
  }
}
