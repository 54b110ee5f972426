import { Module, type DynamicModule } from '@nestjs/common';
import { CqrsModule } from '@nestjs/cqrs';
import type { TocsinConfig } from '@tocsin/config';
import { KafkaModule } from '@tocsin/kafka';
import { SecretsModule, serviceModules } from '@tocsin/runtime';
import { AlertsConsumer } from './alerts/alerts.consumer';
import { FanOutAlertsHandler } from './deliveries/commands/fan-out-alerts.handler';
import { DeliveryQueueMetrics } from './deliveries/delivery-queue.metrics';
import { DeliveryRepository } from './deliveries/delivery.repository';
import { DeliveryWorker } from './deliveries/delivery-worker.service';
import { EndpointHealthRecorder } from './endpoints/endpoint-health.recorder';

@Module({})
export class DispatcherModule {
  static forRoot(config: TocsinConfig): DynamicModule {
    return {
      module: DispatcherModule,
      imports: [
        ...serviceModules(config, 'dispatcher'),
        CqrsModule.forRoot(),
        KafkaModule.forApp(config, 'dispatcher'),
        SecretsModule,
      ],
      providers: [
        DeliveryRepository,
        FanOutAlertsHandler,
        EndpointHealthRecorder,
        DeliveryWorker,
        AlertsConsumer,
        DeliveryQueueMetrics,
      ],
    };
  }
}
