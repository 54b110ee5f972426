import { Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import net from 'node:net';
import { Kafka, logLevel } from 'kafkajs';
import { topicNames } from '@tocsin/contracts';
import { FaultProxy, kafkaBrokersForTests } from '@tocsin/testing';
import { deadLetter, KafkaProducerService, MAX_DLQ_VALUE_BYTES, MAX_RECORD_BYTES, RecordTooLargeError } from '../src';

/** Reads every record of a topic from the start, in offset order (one partition). */
async function readAll(kafka: Kafka, topic: string): Promise<string[]> {
  const admin = kafka.admin();
  await admin.connect();
  const [end] = await admin.fetchTopicOffsets(topic);
  await admin.disconnect();
  const total = Number(end!.high);
  const values: string[] = [];
  if (total === 0) return values;
  const consumer = kafka.consumer({ groupId: `reader-${randomUUID()}` });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await new Promise<void>((resolve) => {
    void consumer.run({
      eachMessage: async ({ message }) => {
        values.push(message.value?.toString() ?? '');
        if (values.length >= total) resolve();
      },
    });
  });
  await consumer.disconnect();
  return values;
}

describe('KafkaProducerService on a real broker', () => {
  const kafka = new Kafka({ clientId: 'producer-test', brokers: kafkaBrokersForTests(), logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  const producer = new KafkaProducerService(kafka, { brokers: kafkaBrokersForTests(), clientId: 'producer-test', topics: topicNames(''), partitions: 1 });
  const open = `test.producer.${randomUUID()}`;
  // The broker refuses any record batch over 2,000 bytes here: a stand-in for a topic
  // whose limit is lower than Tocsin's own.
  const strict = `test.producer.strict.${randomUUID()}`;

  beforeAll(async () => {
    Logger.overrideLogger(false);
    await admin.connect();
    await admin.createTopics({
      waitForLeaders: true,
      topics: [
        { topic: open, numPartitions: 1 },
        { topic: strict, numPartitions: 1, configEntries: [{ name: 'max.message.bytes', value: '2000' }] },
      ],
    });
  });

  afterAll(async () => {
    await admin.deleteTopics({ topics: [open, strict] }).catch(() => undefined);
    await Promise.all([admin.disconnect(), producer.onApplicationShutdown()]);
  });

  it('refuses a record over the limit before sending anything', async () => {
    const huge = 'x'.repeat(MAX_RECORD_BYTES + 1);
    await expect(producer.send(open, [{ key: 'a', value: 'first', headers: {} }, { key: 'b', value: huge, headers: {} }])).rejects.toBeInstanceOf(
      RecordTooLargeError,
    );
    expect(await readAll(kafka, open)).toEqual([]);
  });

  it('sends the others and names the record too large for a record, in order', async () => {
    const huge = 'x'.repeat(MAX_RECORD_BYTES + 1);
    // Many mid-sized records: more than one request's worth, so the send is cut in several.
    const many = Array.from({ length: 30 }, (_, i) => `${i}:${'y'.repeat(90_000)}`);
    const refused = await producer.sendIsolated(open, [
      { key: 'a', value: 'before', headers: {} },
      { key: 'b', value: huge, headers: {} },
      ...many.map((value) => ({ key: 'c', value, headers: {} })),
      { key: 'd', value: 'after', headers: {} },
    ]);
    expect([...refused.keys()]).toEqual([1]);
    expect(refused.get(1)).toMatch(/larger than the 1000000 bytes/);
    expect(await readAll(kafka, open)).toEqual(['before', ...many, 'after']);
  });

  it('isolates the record the broker itself refuses, and sends the rest', async () => {
    const refused = await producer.sendIsolated(strict, [
      { key: 'a', value: 'one', headers: {} },
      { key: 'a', value: 'z'.repeat(3_000), headers: {} },
      { key: 'a', value: 'three', headers: {} },
    ]);
    expect([...refused.keys()]).toEqual([1]);
    expect(refused.get(1)).toMatch(/refused by Kafka/);
    expect(await readAll(kafka, strict)).toEqual(['one', 'three']);
  });

  it('makes a dead letter that is always small and storable', () => {
    const copy = deadLetter(
      { topic: 'source', partition: 3, offset: '7', key: 'k\u0000', value: Buffer.alloc(MAX_DLQ_VALUE_BYTES * 2, 0x41), headers: { 'x\ud800': 'v\u0000' } },
      'too large',
    );
    expect(copy.value.length).toBe(MAX_DLQ_VALUE_BYTES);
    expect(copy.key).toBe('k');
    expect(copy.headers).toMatchObject({ 'x\ufffd': 'v', 'dlq-reason': 'too large', 'dlq-truncated-from': String(MAX_DLQ_VALUE_BYTES * 2), 'dlq-source-offset': '7' });
  });
});

describe('KafkaProducerService when the broker acts on a request but its answer is lost', () => {
  const brokers = kafkaBrokersForTests();
  const direct = new Kafka({ clientId: 'producer-faults-reader', brokers, logLevel: logLevel.NOTHING });
  const topic = `test.producer.faults.${randomUUID()}`;
  let proxy: FaultProxy;
  let producer: KafkaProducerService;

  beforeAll(async () => {
    Logger.overrideLogger(false);
    const admin = direct.admin();
    await admin.connect();
    await admin.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: 1 }] });
    await admin.disconnect();
    // One broker: every connection the client opens, whatever broker address it was given,
    // goes through the proxy to it.
    proxy = await FaultProxy.start(Number(brokers[0]!.split(':').at(-1)));
    const faulty = new Kafka({
      clientId: 'producer-faults',
      brokers,
      logLevel: logLevel.NOTHING,
      requestTimeout: 1_000,
      retry: { retries: 1, initialRetryTime: 100, maxRetryTime: 200 },
      socketFactory: ({ onConnect }) => net.connect({ host: '127.0.0.1', port: proxy.port }, onConnect),
    });
    producer = new KafkaProducerService(faulty, { brokers, clientId: 'producer-faults', topics: topicNames(''), partitions: 1 });
  });

  afterAll(async () => {
    await producer.onApplicationShutdown();
    await proxy.close();
  });

  it('never acknowledges a later record without storing it', async () => {
    await producer.send(topic, [{ key: 'k', value: 'before', headers: {} }]);
    // The broker stores 'unanswered' but the producer never hears so: its send fails, and
    // the caller (an API answering 503) is told it was not queued.
    proxy.set({ holdReplies: true });
    await expect(producer.send(topic, [{ key: 'k', value: 'unanswered', headers: {} }])).rejects.toThrow();
    proxy.resetAll();
    proxy.set({});
    // A different record, acknowledged: it must be in the log. An idempotent kafkajs
    // producer rolls its sequence back after the failed send, so the broker would take this
    // one for a retry of 'unanswered', answer it with that record's offset and drop it.
    await producer.send(topic, [{ key: 'k', value: 'after', headers: {} }]);
    const stored = await readAll(direct, topic);
    expect(stored.filter((v) => v !== 'unanswered')).toEqual(['before', 'after']);
    expect(stored).toContain('unanswered');
  }, 30_000);
});
