import { Module, type DynamicModule } from '@nestjs/common';
import type { TocsinConfig } from '@tocsin/config';
import { topicNames } from '@tocsin/contracts';
import { KafkaModule } from '@tocsin/kafka';
import { databaseModule, HealthModule, loggingModule, TocsinConfigModule } from '@tocsin/runtime';
import { ProberService } from './probing/prober.service';
import { ProbeResultPublisher } from './publishing/probe-result.publisher';
import { ProbeScheduler } from './scheduling/probe-scheduler.service';

@Module({})
export class ProbeIngestModule {
  static forRoot(config: TocsinConfig): DynamicModule {
    return {
      module: ProbeIngestModule,
      imports: [
        TocsinConfigModule.forRoot(config),
        loggingModule(config, 'probe-ingest'),
        databaseModule(config),
        HealthModule,
        KafkaModule.forRoot({
          brokers: config.KAFKA_BROKERS,
          clientId: `${config.KAFKA_CLIENT_ID}-probe-ingest`,
          topics: topicNames(config.TOCSIN_TOPIC_NAMESPACE),
          partitions: config.TOCSIN_TOPIC_PARTITIONS,
        }),
      ],
      providers: [ProberService, ProbeResultPublisher, ProbeScheduler],
    };
  }
}
