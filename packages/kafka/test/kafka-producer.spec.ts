import { Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { Kafka, logLevel } from 'kafkajs';
import { topicNames } from '@tocsin/contracts';
import { kafkaBrokersForTests } from '@tocsin/testing';
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
