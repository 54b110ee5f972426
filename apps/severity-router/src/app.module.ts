import { Module, type DynamicModule } from '@nestjs/common';
import { CqrsModule } from '@nestjs/cqrs';
import type { TocsinConfig } from '@tocsin/config';
import { topicNames } from '@tocsin/contracts';
import { KafkaModule } from '@tocsin/kafka';
import { databaseModule, HealthModule, loggingModule, TocsinConfigModule } from '@tocsin/runtime';
import { IncidentChangedHandler } from './incidents/incident-changed.handler';
import { RecordProbeBatchHandler } from './ingest/commands/record-probe-batch.handler';
import { ProbeResultsConsumer } from './ingest/probe-results.consumer';
import { MonitorRepository } from './monitors/monitor.repository';
import { OutboxRelay } from './outbox/outbox-relay.service';

@Module({})
export class SeverityRouterModule {
  static forRoot(config: TocsinConfig): DynamicModule {
    return {
      module: SeverityRouterModule,
      imports: [
        TocsinConfigModule.forRoot(config),
        loggingModule(config, 'severity-router'),
        databaseModule(config),
        HealthModule,
        CqrsModule.forRoot(),
        KafkaModule.forRoot({
          brokers: config.KAFKA_BROKERS,
          clientId: `${config.KAFKA_CLIENT_ID}-severity-router`,
          topics: topicNames(config.TOCSIN_TOPIC_NAMESPACE),
          partitions: config.TOCSIN_TOPIC_PARTITIONS,
        }),
      ],
      providers: [MonitorRepository, RecordProbeBatchHandler, IncidentChangedHandler, ProbeResultsConsumer, OutboxRelay],
    };
  }
}
