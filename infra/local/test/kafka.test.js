'use strict';
// End to end against a real broker started by startKafka on a free port.
// kafkajs logging is off: it logs retried coordinator-loading errors as ERROR; real failures still throw.
const crypto = require('node:crypto');
const { Kafka, logLevel } = require('kafkajs');
const { startKafka, ensureTopics, getFreePort } = require('../lib/kafka');

const MESSAGES = 30;

// Retriable Kafka errors (a coordinator moving or loading) count as "not yet".
async function waitFor(what, check, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let value;
    let lastError;
    try {
      value = await check();
    } catch (e) {
      if (!e.retriable) throw e;
      lastError = e;
    }
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}${lastError ? `: ${lastError.message}` : ''}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('local Kafka', () => {
  let kafka;
  let local;
  let admin;
  const topic = `tocsin-local-test-${crypto.randomUUID()}`;
  const groupId = `tocsin-local-test-${crypto.randomUUID()}`;

  beforeAll(async () => {
    // Always a broker of its own, even under npm test's KAFKA_BROKERS: startKafka is what is tested.
    // The first run downloads the broker jars, hence the generous timeout.
    local = await startKafka({ port: await getFreePort() });
    kafka = local;
    admin = new Kafka({ clientId: 'tocsin-local-test', brokers: kafka.brokers.split(','), logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
  }, 600_000);

  afterAll(async () => {
    if (admin) {
      await admin.deleteTopics({ topics: [topic] }).catch(() => {});
      await admin.disconnect();
    }
    await kafka?.stop();
  }, 60_000);

  it('refuses to start a second broker on a port where Kafka already answers', async () => {
    const port = Number(local.brokers.split(':')[1]);
    await expect(startKafka({ port })).rejects.toThrow(/already answers.*KAFKA_BROKERS=/s);
  });

  it('creates topics idempotently', async () => {
    expect(await ensureTopics({ brokers: kafka.brokers, topics: [{ topic, numPartitions: 3 }] })).toEqual([topic]);
    expect(await ensureTopics({ brokers: kafka.brokers, topics: [{ topic, numPartitions: 3 }] })).toEqual([]);
    const { topics } = await admin.fetchTopicMetadata({ topics: [topic] });
    expect(topics[0].partitions).toHaveLength(3);
  });

  it('produces idempotently, consumes in a group and commits offsets', async () => {
    const client = new Kafka({ clientId: 'tocsin-local-test', brokers: kafka.brokers.split(','), logLevel: logLevel.NOTHING });
    const producer = client.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    const sent = Array.from({ length: MESSAGES }, (_, i) => `m${i}`);
    await producer.send({ topic, messages: sent.map((value, i) => ({ key: `k${i}`, value })) });
    await producer.disconnect();

    const highs = await admin.fetchTopicOffsets(topic);
    expect(highs.reduce((sum, p) => sum + Number(p.high), 0)).toBe(MESSAGES);
    expect(highs.filter((p) => Number(p.high) > 0).length).toBeGreaterThan(1);

    // A short fetch wait keeps disconnect() quick: it waits for the in-flight fetch.
    const consumer = client.consumer({ groupId, maxWaitTimeInMs: 100 });
    const received = [];
    try {
      await consumer.connect();
      await consumer.subscribe({ topic, fromBeginning: true });
      await consumer.run({
        autoCommit: false,
        eachMessage: async ({ partition, message }) => {
          received.push(message.value.toString());
          await consumer.commitOffsets([{ topic, partition, offset: (BigInt(message.offset) + 1n).toString() }]);
        },
      });

      const committed = await waitFor('offsets committed for every message', async () => {
        const [{ partitions }] = await admin.fetchOffsets({ groupId, topics: [topic] });
        const total = partitions.reduce((sum, p) => sum + Math.max(Number(p.offset), 0), 0);
        return total === MESSAGES && partitions;
      });
      expect(committed.map((p) => p.offset).sort()).toEqual(highs.map((p) => p.high).sort());
      expect(received.sort()).toEqual([...sent].sort());
    } finally {
      await consumer.disconnect();
    }
  });
});
