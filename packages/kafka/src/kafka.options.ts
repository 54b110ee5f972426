import type { TopicNames } from '@tocsin/contracts';

export interface KafkaModuleOptions {
  readonly brokers: readonly string[];
  readonly clientId: string;
  readonly topics: TopicNames;
  readonly partitions: number;
  /** SASL credentials of this app's Kafka client, when the cluster asks for them. */
  readonly sasl?: { readonly mechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512'; readonly username: string; readonly password: string };
}

export const KAFKA_OPTIONS = Symbol('KAFKA_OPTIONS');
