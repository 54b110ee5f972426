import { Kafka, logLevel, Partitioners, type Producer } from 'kafkajs';
import { HEADERS, monitorKey, topicNames, type ProbeResult } from '@tocsin/contracts';
import type { Stack } from './stack';

export interface RawRecord {
  readonly value: string | Buffer;
  readonly key?: string;
  readonly headers?: Record<string, string>;
}

/** A team's own prober: a plain kafkajs producer writing straight to the probe-results topic. */
export class ExternalProber {
  private constructor(
    readonly kafka: Kafka,
    private readonly producer: Producer,
    private readonly topic: string,
  ) {}

  static async connect(stack: Stack): Promise<ExternalProber> {
    const kafka = new Kafka({ clientId: 'external-prober', brokers: stack.config.KAFKA_BROKERS, logLevel: logLevel.NOTHING });
    const producer = kafka.producer({ idempotent: false, maxInFlightRequests: 1, createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    return new ExternalProber(kafka, producer, topicNames(stack.config.TOCSIN_TOPIC_NAMESPACE).probeResults);
  }

  /** Results as a well-behaved producer sends them: keyed by monitor, with the tenant header. */
  async send(...results: ProbeResult[]): Promise<void> {
    await this.sendRaw(
      ...results.map((r) => ({
        key: monitorKey(r.tenant_id, r.monitor_id),
        value: JSON.stringify(r),
        headers: { [HEADERS.tenantId]: r.tenant_id },
      })),
    );
  }

  async sendRaw(...records: RawRecord[]): Promise<void> {
    await this.producer.send({
      topic: this.topic,
      messages: records.map((r) => ({ key: r.key ?? null, value: r.value, headers: r.headers ?? {} })),
    });
  }

  async disconnect(): Promise<void> {
    await this.producer.disconnect();
  }
}
