import { randomUUID } from 'node:crypto';
import { Kafka, logLevel } from 'kafkajs';
import { HEADERS, probeResultSchema, topicNames } from '@tocsin/contracts';
import { waitFor } from '@tocsin/testing';
import { ApiClient, startStack, type Stack } from '../src';

/**
 * DESIGN §7's push API: at most 1,000 results and 1 MiB per request (413 beyond), good
 * items accepted beside rejected ones, and 202 only once Kafka holds the records.
 */
describe('POST /v1/probe-results', () => {
  let stack: Stack;
  let api: ApiClient;
  let tenantId: string;
  let kafka: Kafka;
  let topic: string;

  const recordsOnTopic = async () => {
    const admin = kafka.admin();
    await admin.connect();
    try {
      const offsets = await admin.fetchTopicOffsets(topic);
      return offsets.reduce((sum, p) => sum + Number(p.high), 0);
    } finally {
      await admin.disconnect();
    }
  };

  beforeAll(async () => {
    // The router creates the topics; it only reads the probe topic, so every record there came from the API.
    stack = await startStack(['api', 'severity-router']);
    ({ client: api, tenantId } = await ApiClient.tenant(stack.apiUrl, 'acme'));
    for (const slug of ['search', 'billing']) {
      expect((await api.post('/v1/monitors', { slug, name: slug, url: `https://${slug}.example.com/mcp` })).status).toBe(201);
    }
    kafka = new Kafka({ clientId: 'push-api-test', brokers: stack.config.KAFKA_BROKERS, logLevel: logLevel.NOTHING });
    topic = topicNames(stack.config.TOCSIN_TOPIC_NAMESPACE).probeResults;
  });

  afterAll(async () => {
    await stack?.close();
  });

  it('refuses 1,001 results with 413 and queues none of them', async () => {
    const results = Array.from({ length: 1001 }, () => ({ monitor_id: 'search', ok: true }));
    const res = await api.post('/v1/probe-results', { results });
    expect(res).toMatchObject({ status: 413, body: { statusCode: 413, error: 'Payload Too Large' } });
    expect(res.body.message).toContain('1000');
    expect(await recordsOnTopic()).toBe(0);
  });

  it('refuses a body over 1 MiB with a JSON 413, not 500', async () => {
    const results = Array.from({ length: 600 }, () => ({ monitor_id: 'search', ok: false, failure_layer: 'http', error: 'x'.repeat(1900) }));
    const res = await api.post('/v1/probe-results', { results });
    expect(JSON.stringify({ results }).length).toBeGreaterThan(1024 * 1024);
    expect(res).toMatchObject({ status: 413, body: { statusCode: 413, error: 'Payload Too Large' } });
    expect(await recordsOnTopic()).toBe(0);
  });

  it('accepts a full batch of 1,000 under the size limit', async () => {
    const results = Array.from({ length: 1000 }, (_, i) => ({ monitor_id: i % 2 ? 'search' : 'billing', ok: true, latency_ms: i }));
    const res = await api.post<{ accepted: number; rejected: unknown[] }>('/v1/probe-results', { results });
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({ accepted: 1000, rejected: [] });
    expect(await recordsOnTopic()).toBe(1000);
  });

  it('accepts 2 good results beside 1 for an unknown monitor: exactly 2 records on the topic', async () => {
    const before = await recordsOnTopic();
    const eventId = randomUUID();
    const res = await api.post<{ accepted: number; event_ids: string[]; rejected: Array<{ index: number; reason: string }> }>(
      '/v1/probe-results',
      {
        results: [
          { monitor_id: 'search', ok: false, failure_layer: 'tools_list', error: 'tools/list timed out', event_id: eventId },
          { monitor_id: 'no-such-monitor', ok: true },
          { monitor_id: 'billing', ok: true, latency_ms: 40 },
        ],
      },
    );
    expect(res.status).toBe(202);
    expect(res.body.accepted).toBe(2);
    expect(res.body.rejected).toEqual([{ index: 1, reason: expect.stringContaining('no-such-monitor') }]);
    expect(res.body.event_ids[0]).toBe(eventId);
    expect(await recordsOnTopic()).toBe(before + 2);

    // Read them back: valid ProbeResults, keyed by monitor, with the tenant header.
    const consumer = kafka.consumer({ groupId: `push-reader-${randomUUID()}` });
    const wanted = new Set(res.body.event_ids);
    const seen: Array<{ key: string; tenant: string; value: unknown }> = [];
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        const value = JSON.parse(message.value!.toString()) as { event_id: string };
        if (wanted.has(value.event_id)) {
          seen.push({ key: message.key!.toString(), tenant: message.headers![HEADERS.tenantId]!.toString(), value });
        }
      },
    });
    try {
      await waitFor(() => seen.length >= 2, { description: 'the two accepted records' });
    } finally {
      await consumer.disconnect();
    }
    expect(seen).toHaveLength(2);
    for (const record of seen) {
      const parsed = probeResultSchema.parse(record.value);
      expect(parsed).toMatchObject({ tenant_id: tenantId, source: 'push' });
      expect(record.key).toBe(`${tenantId}:${parsed.monitor_id}`);
      expect(record.tenant).toBe(tenantId);
    }
  });

  it('names every rejected item, and answers 400 when nothing could be accepted', async () => {
    const res = await api.post('/v1/probe-results', {
      results: [{ monitor_id: 'search', ok: false }, { monitor_id: 'search', ok: 'yes' }, 'not an object'],
    });
    expect(res.status).toBe(400);
    const fields = (res.body.details as Array<{ field: string; message: string }>).map((d) => d.field);
    expect(fields).toEqual(['results.0', 'results.1', 'results.2']);
    expect(res.body.message).toContain('failure_layer');
    expect((await api.post('/v1/probe-results', { results: [] })).status).toBe(400);
    expect((await api.post('/v1/probe-results', { results: [{ monitor_id: 'search', ok: true }], tenant_id: 'x' })).status).toBe(400);
  });
});
