import { SecretUnreadableError } from '@tocsin/secrets';

/**
 * Where a `kafka` endpoint's records go: the tenant's own cluster and topic, with the SASL
 * credentials and TLS it asks for. The API seals it as JSON in the endpoint's secret column;
 * the dispatcher opens it for each attempt.
 */
export interface KafkaDestinationConfig {
  readonly brokers: readonly string[];
  readonly topic: string;
  readonly sasl?: { readonly mechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512'; readonly username: string; readonly password: string };
  readonly ssl?: boolean;
}

/** The sealed JSON read back; a row that does not hold one is refused here rather than sent half-read. */
export function parseKafkaDestination(opened: string): KafkaDestinationConfig {
  let value: Partial<KafkaDestinationConfig> | null = null;
  try {
    value = JSON.parse(opened) as Partial<KafkaDestinationConfig>;
  } catch {
    // judged below
  }
  if (!value || !Array.isArray(value.brokers) || value.brokers.length === 0 || typeof value.topic !== 'string') {
    throw new SecretUnreadableError('the stored kafka destination holds no brokers and topic');
  }
  return value as KafkaDestinationConfig;
}
