import { type DynamicModule, Global, Module } from '@nestjs/common';
import { Kafka, logLevel, type SASLOptions } from 'kafkajs';
import type { TocsinConfig } from '@tocsin/config';
import { topicNames } from '@tocsin/contracts';
import { nestLogCreator } from './kafka-logger';
import { KafkaProducerService } from './kafka-producer.service';
import { KafkaTopicsService } from './kafka-topics.service';
import { KAFKA_OPTIONS, type KafkaModuleOptions } from './kafka.options';

@Global()
@Module({})
export class KafkaModule {
  /** The Kafka client, producer and topics of one app, from the shared typed config. */
  static forApp(config: TocsinConfig, app: string): DynamicModule {
    return KafkaModule.forRoot({
      brokers: config.KAFKA_BROKERS,
      clientId: `${config.KAFKA_CLIENT_ID}-${app}`,
      topics: topicNames(config.TOCSIN_TOPIC_NAMESPACE),
      partitions: config.TOCSIN_TOPIC_PARTITIONS,
      ...(config.KAFKA_SASL_MECHANISM && config.KAFKA_SASL_USERNAME
        ? { sasl: { mechanism: config.KAFKA_SASL_MECHANISM, username: config.KAFKA_SASL_USERNAME, password: config.KAFKA_SASL_PASSWORD ?? '' } }
        : {}),
    });
  }

  static forRoot(options: KafkaModuleOptions): DynamicModule {
    return {
      module: KafkaModule,
      providers: [
        { provide: KAFKA_OPTIONS, useValue: options },
        {
          provide: Kafka,
          useFactory: () =>
            new Kafka({
              clientId: options.clientId,
              brokers: [...options.brokers],
              logLevel: logLevel.WARN,
              logCreator: nestLogCreator,
              retry: { retries: 8, initialRetryTime: 200 },
              ...(options.sasl ? { sasl: saslOptions(options.sasl) } : {}),
            }),
        },
        KafkaProducerService,
        KafkaTopicsService,
      ],
      exports: [KAFKA_OPTIONS, Kafka, KafkaProducerService, KafkaTopicsService],
    };
  }
}

/** kafkajs's SASL options for one of the mechanisms Tocsin accepts. */
export function saslOptions(sasl: NonNullable<KafkaModuleOptions['sasl']>): SASLOptions {
  const { username, password } = sasl;
  switch (sasl.mechanism) {
    case 'plain':
      return { mechanism: 'plain', username, password };
    case 'scram-sha-256':
      return { mechanism: 'scram-sha-256', username, password };
    case 'scram-sha-512':
      return { mechanism: 'scram-sha-512', username, password };
  }
}
