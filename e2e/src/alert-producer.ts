import { randomUUID } from 'node:crypto';
import { Kafka, logLevel, Partitioners, type Producer } from 'kafkajs';
import { ALERT_EVENT_SCHEMA, HEADERS, monitorKey, topicNames, type AlertEvent } from '@tocsin/contracts';
import type { Stack } from './stack';

/**
 * Produces AlertEvents straight to tocsin.alerts.v1, as the router's outbox relay does, so
 * dispatcher tests can drive any number of alerts without probing anything.
 */
export class AlertProducer {
  private constructor(
    private readonly producer: Producer,
    private readonly topic: string,
  ) {}

  static async connect(stack: Pick<Stack, 'config'>): Promise<AlertProducer> {
    const kafka = new Kafka({ clientId: 'alert-producer', brokers: stack.config.KAFKA_BROKERS, logLevel: logLevel.NOTHING });
    const producer = kafka.producer({ idempotent: true, createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    return new AlertProducer(producer, topicNames(stack.config.TOCSIN_TOPIC_NAMESPACE).alerts);
  }

  async send(...alerts: AlertEvent[]): Promise<void> {
    for (let i = 0; i < alerts.length; i += 500) {
      await this.producer.send({
        topic: this.topic,
        messages: alerts.slice(i, i + 500).map((a) => ({
          key: monitorKey(a.tenant_id, a.monitor_id),
          value: JSON.stringify(a),
          headers: { [HEADERS.tenantId]: a.tenant_id, [HEADERS.schema]: ALERT_EVENT_SCHEMA, [HEADERS.contentType]: 'application/json' },
        })),
      });
    }
  }

  async disconnect(): Promise<void> {
    await this.producer.disconnect();
  }
}

/** A downtime_started alert of a fresh incident on a fresh monitor of the tenant. */
export function downtimeStarted(tenantId: string, overrides: Partial<AlertEvent> = {}): AlertEvent {
  const monitorId = randomUUID();
  const now = new Date().toISOString();
  return {
    event_id: randomUUID(),
    event: 'downtime_started',
    tenant_id: tenantId,
    monitor_id: monitorId,
    dedup_key: `${tenantId}:${monitorId}:1`,
    server_slug: 'search-mcp',
    server_url: 'https://search.example.com/mcp',
    failure_layer: 'http',
    severity: 'P1',
    started_at: now,
    probe_count: 3,
    last_error: 'HTTP 502',
    sequence: 1,
    occurred_at: now,
    ...overrides,
  };
}
