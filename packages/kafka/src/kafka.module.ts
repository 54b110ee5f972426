import { type DynamicModule, Global, Module } from '@nestjs/common';
import { Kafka, logLevel } from 'kafkajs';
import { nestLogCreator } from './kafka-logger';
import { KafkaProducerService } from './kafka-producer.service';
import { KafkaTopicsService } from './kafka-topics.service';
import { KAFKA_OPTIONS, type KafkaModuleOptions } from './kafka.options';

@Global()
@Module({})
export class KafkaModule {
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
            }),
        },
        KafkaProducerService,
        KafkaTopicsService,
      ],
      exports: [KAFKA_OPTIONS, Kafka, KafkaProducerService, KafkaTopicsService],
    };
  }
}
