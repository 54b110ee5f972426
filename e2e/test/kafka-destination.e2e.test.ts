import { randomBytes } from 'node:crypto';
import { Kafka, logLevel, type Consumer, type KafkaMessage } from 'kafkajs';
import { Client } from 'pg';
import { waitFor } from '@tocsin/testing';
import { ApiClient, startStack, type Stack } from '../src';

interface Delivery {
  id: string;
  event: string;
  status: string;
  attempt_count: number;
}

/**
 * A `kafka` endpoint puts each alert on the tenant's own topic (here, a topic on a real
 * broker), keyed by the incident's dedup key, with the same JSON a webhook gets, through the
 * same deliveries and retries: a cluster that cannot be reached is retried, a topic that does
 * not exist dead-letters. Brokers, topic and credentials are sealed; only the address shows.
 */
describe('kafka endpoints', () => {
  let stack: Stack;
  let api: ApiClient;
  let consumer: Consumer;
  const topic = `tenant-alerts-${randomBytes(4).toString('hex')}`;
  const records: KafkaMessage[] = [];

  const push = (ok: boolean) => api.post('/v1/probe-results', { results: [{ monitor_id: 'orders', ok, ...(ok ? {} : { failure_layer: 'http', error: 'HTTP 502' }) }] });
  const deliveries = async (id: string) => (await api.get<{ data: Delivery[] }>(`/v1/endpoints/${id}/deliveries`)).body.data;
  const create = (name: string, config: Record<string, unknown>) =>
    api.post<{ id: string; url: string; type: string; secret?: string }>('/v1/endpoints', { name, type: 'kafka', config, retry_schedule_seconds: [0, 1, 1] });

  beforeAll(async () => {
    stack = await startStack(['api', 'severity-router', 'dispatcher']);
    ({ client: api } = await ApiClient.tenant(stack.apiUrl, 'kafka-dest'));
    const kafka = new Kafka({ clientId: 'tenant-side', brokers: stack.config.KAFKA_BROKERS, logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 2 }], waitForLeaders: true });
    await admin.disconnect();
    consumer = kafka.consumer({ groupId: `tenant-side-${topic}` });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({ eachMessage: async ({ message }) => void records.push(message) });
    expect((await api.post('/v1/monitors', { slug: 'orders', name: 'Orders', url: 'https://orders.example.com/mcp' })).status).toBe(201);
  });

  afterAll(async () => {
    await consumer?.disconnect();
    await stack?.close();
  });

  it('refuses a kafka endpoint without brokers or topic, or with a bad topic name, naming the field', async () => {
    for (const [config, field] of [
      [{ topic }, 'brokers'],
      [{ brokers: stack.config.KAFKA_BROKERS }, 'topic'],
      [{ brokers: stack.config.KAFKA_BROKERS, topic: 'no spaces allowed' }, 'topic'],
      [{ brokers: ['not a broker'], topic }, 'brokers'],
      [{ brokers: stack.config.KAFKA_BROKERS, topic, to: ['a@example.com'] }, 'to'],
    ] as const) {
      const res = await create('x', config);
      expect([res.status, JSON.stringify(res.body)]).toEqual([400, expect.stringContaining(field)]);
    }
  });

  it('puts the outage and its recovery on the topic, keyed by the dedup key, with the webhook body', async () => {
    const created = await create('tenant topic', { brokers: stack.config.KAFKA_BROKERS, topic });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ type: 'kafka', url: `kafka://${stack.config.KAFKA_BROKERS.join(',')}/${topic}` });
    expect(created.body.secret).toBeUndefined();

    for (let i = 0; i < 3; i++) expect((await push(false)).status).toBe(202);
    const [down] = await waitFor(() => records.length > 0 && records, { description: 'the outage on the tenant topic' });
    const body = JSON.parse(down!.value!.toString()) as Record<string, unknown>;
    expect(body).toMatchObject({ event: 'downtime_started', server_slug: 'orders', severity: 'P1', failure_layer: 'http', last_error: 'HTTP 502' });
    expect(down!.key!.toString()).toBe(body.dedup_key);
    expect(down!.headers!['x-tocsin-event']!.toString()).toBe('downtime_started');

    expect((await push(true)).status).toBe(202);
    const up = await waitFor(() => records[1], { description: 'the recovery on the tenant topic' });
    expect(JSON.parse(up.value!.toString())).toMatchObject({ event: 'downtime_resolved', dedup_key: body.dedup_key });
    // One incident, one key: both records are on one partition, in order.
    expect(up.key!.toString()).toBe(body.dedup_key);
    // The record is on the topic a moment before the attempt is recorded: wait for the record.
    const statuses = await waitFor(async () => {
      const rows = (await deliveries(created.body.id)).map((d) => [d.event, d.status]);
      return rows.length === 2 && rows.every(([, status]) => ['delivered', 'dead_lettered', 'skipped'].includes(status!)) && rows;
    }, { description: 'both deliveries finished' });
    expect(statuses).toEqual([
      ['downtime_started', 'delivered'],
      ['downtime_resolved', 'delivered'],
    ]);

    const db = new Client({ connectionString: stack.database.url });
    await db.connect();
    try {
      const { rows } = await db.query<{ secret: string }>('SELECT secret FROM endpoints WHERE id = $1', [created.body.id]);
      expect(rows[0]!.secret).toMatch(/^enc:v2:/);
    } finally {
      await db.end();
    }
  });

  it('retries a cluster it cannot reach, and dead-letters a record for a topic that does not exist', async () => {
    const unreachable = await create('down cluster', { brokers: ['127.0.0.1:1'], topic });
    const missing = await create('no topic', { brokers: stack.config.KAFKA_BROKERS, topic: `${topic}-missing` });
    const sent = records.length;
    expect((await api.post(`/v1/endpoints/${unreachable.body.id}/test`, {})).status).toBe(202);
    expect((await api.post(`/v1/endpoints/${missing.body.id}/test`, {})).status).toBe(202);
    const [down] = await waitFor(async () => {
      const rows = await deliveries(unreachable.body.id);
      return rows.length === 1 && rows[0]!.status === 'dead_lettered' && rows;
    }, { description: 'the unreachable cluster tried on the whole schedule' });
    expect(down!.attempt_count).toBe(3);
    const detail = await api.get<{ attempts: Array<{ error_class: string }> }>(`/v1/deliveries/${down!.id}`);
    expect(detail.body.attempts.map((a) => a.error_class)).toEqual(['kafka_unavailable', 'kafka_unavailable', 'kafka_unavailable']);
    const [refused] = await waitFor(async () => {
      const rows = await deliveries(missing.body.id);
      return rows.length === 1 && rows[0]!.status === 'dead_lettered' && rows;
    }, { description: 'the missing topic dead-lettered' });
    const refusedDetail = await api.get<{ attempts: Array<{ error_class: string }> }>(`/v1/deliveries/${refused!.id}`);
    expect(refusedDetail.body.attempts.map((a) => a.error_class)).toEqual(['kafka_rejected']);
    expect(records.length).toBe(sent);
  });
});
