import { Module, type DynamicModule } from '@nestjs/common';
import { CqrsModule } from '@nestjs/cqrs';
import type { TocsinConfig } from '@tocsin/config';
import { KafkaModule } from '@tocsin/kafka';
import { serviceModules } from '@tocsin/runtime';
import { IncidentChangedHandler } from './incidents/incident-changed.handler';
import { RecordProbeBatchHandler } from './ingest/commands/record-probe-batch.handler';
import { ProbeResultsConsumer } from './ingest/probe-results.consumer';
import { MonitorRepository } from './monitors/monitor.repository';
import { OutboxRelay } from './outbox/outbox-relay.service';
import { StorageRetention } from './retention/storage-retention.service';

@Module({})
export class SeverityRouterModule {
  static forRoot(config: TocsinConfig): DynamicModule {
    return {
      module: SeverityRouterModule,
      imports: [
        ...serviceModules(config, 'severity-router'),
        CqrsModule.forRoot(),
        KafkaModule.forApp(config, 'severity-router'),
      ],
      providers: [MonitorRepository, RecordProbeBatchHandler, IncidentChangedHandler, ProbeResultsConsumer, OutboxRelay, StorageRetention],
    };
  }
}
