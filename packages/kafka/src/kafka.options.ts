import type { TopicNames } from '@tocsin/contracts';

export interface KafkaModuleOptions {
  readonly brokers: readonly string[];
  readonly clientId: string;
  readonly topics: TopicNames;
  readonly partitions: number;
}

export const KAFKA_OPTIONS = Symbol('KAFKA_OPTIONS');
