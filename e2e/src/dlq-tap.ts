import { randomBytes } from 'node:crypto';
import { Kafka, logLevel, type Consumer } from 'kafkajs';
import { HEADERS, topicNames } from '@tocsin/contracts';

export interface DeadLetterRecord {
  readonly key: string;
  readonly value: Buffer;
  readonly reason: string;
  readonly headers: Record<string, string>;
}

/** Reads the stack's probe-results DLQ from its start. */
export class DlqTap {
  readonly records: DeadLetterRecord[] = [];

  private constructor(private readonly consumer: Consumer) {}

  static async start(config: { KAFKA_BROKERS: string[]; TOCSIN_TOPIC_NAMESPACE: string }): Promise<DlqTap> {
    const kafka = new Kafka({ clientId: 'dlq-tap', brokers: config.KAFKA_BROKERS, logLevel: logLevel.NOTHING });
    const consumer = kafka.consumer({ groupId: `dlq-tap-${randomBytes(4).toString('hex')}` });
    const tap = new DlqTap(consumer);
    await consumer.connect();
    await consumer.subscribe({ topic: topicNames(config.TOCSIN_TOPIC_NAMESPACE).probeResultsDlq, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        const headers = Object.fromEntries(Object.entries(message.headers ?? {}).map(([k, v]) => [k, String(Array.isArray(v) ? v[0] : v)]));
        tap.records.push({
          key: message.key?.toString() ?? '',
          value: message.value ?? Buffer.alloc(0),
          reason: headers[HEADERS.dlqReason] ?? '',
          headers,
        });
      },
    });
    return tap;
  }

  /** Dead letters whose key starts with the tenant's id. */
  of(tenantId: string): DeadLetterRecord[] {
    return this.records.filter((r) => r.key.startsWith(`${tenantId}:`));
  }

  async stop(): Promise<void> {
    await this.consumer.disconnect();
  }
}
