import { Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { Kafka, logLevel, Partitioners } from 'kafkajs';
import { kafkaBrokersForTests, waitFor } from '@tocsin/testing';
import { TransactionalBatchConsumer, type ConsumedBatch } from '../src';

describe('TransactionalBatchConsumer on a real broker', () => {
  const kafka = new Kafka({ clientId: 'batch-consumer-test', brokers: kafkaBrokersForTests(), logLevel: logLevel.NOTHING });
  const topic = `test.batch-consumer.${randomUUID()}`;
  const groupId = `test-group-${randomUUID()}`;
  const admin = kafka.admin();
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });

  beforeAll(async () => {
    Logger.overrideLogger(false);
    await Promise.all([admin.connect(), producer.connect()]);
    await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
  });

  afterAll(async () => {
    await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
    await Promise.all([admin.disconnect(), producer.disconnect()]);
  });

  it('redelivers a batch whose handler failed and commits only after success', async () => {
    await producer.send({ topic, messages: [1, 2, 3].map((n) => ({ key: 'k', value: String(n), headers: { 'tenant-id': 't1' } })) });
    const seen: string[] = [];
    let failures = 1;
    const consumer = new TransactionalBatchConsumer(kafka, { groupId, topic });
    await consumer.start(async (batch: ConsumedBatch) => {
      if (failures-- > 0) throw new Error('transaction rolled back');
      seen.push(...batch.records.map((r) => `${r.value?.toString()}:${r.headers['tenant-id']}`));
    });
    try {
      await waitFor(() => seen.length >= 3, { description: 'three records handled' });
      expect(seen).toEqual(['1:t1', '2:t1', '3:t1']);
      const committed = await waitFor(async () => {
        const [offsets] = await admin.fetchOffsets({ groupId, topics: [topic] });
        return offsets!.partitions[0]!.offset === '3' && offsets!.partitions[0]!.offset;
      }, { description: 'offset committed past the batch' });
      expect(committed).toBe('3');
      expect(consumer.joined).toBe(true);
    } finally {
      await consumer.stop();
    }
  });
});
