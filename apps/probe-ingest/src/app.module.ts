import { Module, type DynamicModule } from '@nestjs/common';
import type { TocsinConfig } from '@tocsin/config';
import { KafkaModule } from '@tocsin/kafka';
import { SecretsModule, serviceModules } from '@tocsin/runtime';
import { ProberService } from './probing/prober.service';
import { ProbeResultPublisher } from './publishing/probe-result.publisher';
import { ProbeLeaseRepository } from './scheduling/probe-lease.repository';
import { ProbeScheduler } from './scheduling/probe-scheduler.service';

@Module({})
export class ProbeIngestModule {
  static forRoot(config: TocsinConfig): DynamicModule {
    return {
      module: ProbeIngestModule,
      imports: [
        ...serviceModules(config, 'probe-ingest'),
        KafkaModule.forApp(config, 'probe-ingest'),
        SecretsModule,
      ],
      providers: [ProberService, ProbeResultPublisher, ProbeLeaseRepository, ProbeScheduler],
    };
  }
}
