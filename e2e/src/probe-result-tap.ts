import { randomBytes } from 'node:crypto';
import { Kafka, logLevel, type Consumer } from 'kafkajs';
import { topicNames, type ProbeResult } from '@tocsin/contracts';
import { waitFor } from '@tocsin/testing';

/** Reads every ProbeResult on the stack's probe topic, as the router would see them. */
export class ProbeResultTap {
  readonly results: ProbeResult[] = [];

  private constructor(private readonly consumer: Consumer) {}

  static async start(config: {
    KAFKA_BROKERS: string[];
    TOCSIN_TOPIC_NAMESPACE: string;
    TOCSIN_TOPIC_PARTITIONS: number;
  }): Promise<ProbeResultTap> {
    const kafka = new Kafka({ clientId: 'probe-result-tap', brokers: config.KAFKA_BROKERS, logLevel: logLevel.NOTHING });
    const topic = topicNames(config.TOCSIN_TOPIC_NAMESPACE).probeResults;
    // The tap may start before any app created the topic; creating an existing one is a no-op.
    const admin = kafka.admin();
    await admin.connect();
    try {
      await admin.createTopics({ topics: [{ topic, numPartitions: config.TOCSIN_TOPIC_PARTITIONS }], waitForLeaders: true });
    } finally {
      await admin.disconnect();
    }
    const consumer = kafka.consumer({ groupId: `tap-${randomBytes(4).toString('hex')}` });
    const tap = new ProbeResultTap(consumer);
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        if (message.value) tap.results.push(JSON.parse(message.value.toString()) as ProbeResult);
      },
    });
    return tap;
  }

  of(monitorId: string): ProbeResult[] {
    return this.results.filter((r) => r.monitor_id === monitorId);
  }

  /** The first result of the monitor, produced after `since`, that matches. */
  async next(monitorId: string, since: number, match: (r: ProbeResult) => boolean, description: string): Promise<ProbeResult> {
    return waitFor(
      () => this.of(monitorId).find((r) => Date.parse(r.observed_at) >= since && match(r)) ?? false,
      { description, timeoutMs: 20_000 },
    );
  }

  async stop(): Promise<void> {
    await this.consumer.disconnect();
  }
}
