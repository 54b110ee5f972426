export * from './kafka.options';
export * from './kafka.module';
export * from './kafka-producer.service';
export * from './kafka-topics.service';
export * from './headers';
export * from './batch-consumer';
export * from './dead-letter';
export * from './kafka-metrics';
