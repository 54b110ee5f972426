import { randomUUID } from 'node:crypto';
import { HEADERS, topicNames, type ProbeResult } from '@tocsin/contracts';
import { WebhookReceiver, waitFor } from '@tocsin/testing';
import { ApiClient, ExternalProber, startStack, type Stack } from '../src';

/**
 * Teams whose own probers produce straight to Kafka: no probe-ingest, a plain kafkajs
 * producer writes ProbeResults, and the same incident path follows.
 */
describe('probe results produced straight to Kafka', () => {
  let stack: Stack;
  let receiver: WebhookReceiver;
  let api: ApiClient;
  let tenantId: string;
  let monitorId: string;
  let secret: string;
  let prober: ExternalProber;
  let topics: ReturnType<typeof topicNames>;
  let clock = Date.now();

  const result = (ok: boolean, extra: Partial<ProbeResult> = {}): ProbeResult => ({
    event_id: randomUUID(),
    tenant_id: tenantId,
    monitor_id: monitorId,
    observed_at: new Date((clock += 1000)).toISOString(),
    ok,
    source: 'kafka',
    ...(ok ? { latency_ms: 12 } : { failure_layer: 'initialize', error: 'JSON-RPC -32602: unsupported protocol version' }),
    ...extra,
  });

  beforeAll(async () => {
    [stack, receiver] = await Promise.all([startStack(['api', 'severity-router', 'dispatcher']), WebhookReceiver.start()]);
    topics = topicNames(stack.config.TOCSIN_TOPIC_NAMESPACE);
    ({ client: api, tenantId } = await ApiClient.tenant(stack.apiUrl, 'acme'));
    const endpoint = await api.post<{ secret: string }>('/v1/endpoints', { name: 'pager', url: receiver.url });
    secret = endpoint.body.secret;
    const monitor = await api.post<{ id: string }>('/v1/monitors', {
      slug: 'search-mcp',
      name: 'Search MCP',
      url: 'https://search.example.com/mcp',
      confirm_after: 3,
    });
    monitorId = monitor.body.id;
    prober = await ExternalProber.connect(stack);
  });

  afterAll(async () => {
    await prober?.disconnect();
    await stack?.close();
    await receiver?.close();
  });

  it('opens one incident after three failures, signed and with the layer from the record', async () => {
    const failures = [result(false), result(false), result(false)];
    await prober.send(...failures);
    const [started] = await receiver.waitForEvent('downtime_started');
    expect(started!.body).toMatchObject({
      failure_layer: 'initialize',
      severity: 'P2',
      probe_count: 3,
      server_slug: 'search-mcp',
      started_at: failures[0]!.observed_at,
      last_error: 'JSON-RPC -32602: unsupported protocol version',
    });
    expect(WebhookReceiver.verify(secret, started!)).toBe(true);

    // The same records again (a producer retry or replay) change nothing.
    await prober.send(...failures);
    await prober.send(result(true));
    await receiver.waitForEvent('downtime_resolved');
    expect(receiver.ofEvent('downtime_started')).toHaveLength(1);
    expect(receiver.ofEvent('downtime_resolved')).toHaveLength(1);
    expect(receiver.ofEvent('downtime_resolved')[0]!.body.dedup_key).toBe(started!.body.dedup_key);
  });

  it('accepts the monitor slug in place of its id', async () => {
    const bySlug = (ok: boolean) => result(ok, { monitor_id: 'search-mcp' });
    await prober.send(bySlug(false), bySlug(false), bySlug(false));
    const opened = await receiver.waitForEvent('downtime_started', 2);
    expect(opened[1]!.body.dedup_key).not.toBe(opened[0]!.body.dedup_key);
    expect(opened[1]!.body.sequence).toBe(3);
  });

  it('sends malformed records to the DLQ with a reason and keeps consuming', async () => {
    const consumer = prober.kafka.consumer({ groupId: `dlq-reader-${randomUUID()}` });
    const dead: Array<{ value: string; reason: string }> = [];
    await consumer.connect();
    await consumer.subscribe({ topic: topics.probeResultsDlq, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        dead.push({ value: message.value?.toString() ?? '', reason: message.headers?.[HEADERS.dlqReason]?.toString() ?? '' });
      },
    });
    try {
      // One key, so the five land on one partition and reach the DLQ in this order.
      const key = `${tenantId}:${monitorId}`;
      const unknownMonitor = randomUUID();
      await prober.sendRaw(
        { key, value: 'not json at all' },
        { key, value: JSON.stringify({ ...result(false), failure_layer: 'dns' }) },
        { key, value: JSON.stringify(result(false, { tenant_id: randomUUID() })) },
        { key, value: JSON.stringify(result(false)), headers: { [HEADERS.tenantId]: 'someone-else' } },
        { key: `${tenantId}:${unknownMonitor}`, value: JSON.stringify(result(false, { monitor_id: unknownMonitor })) },
      );
      await prober.send(result(true));
      await receiver.waitForEvent('downtime_resolved', 2);
      await waitFor(() => dead.length >= 5, { description: 'five DLQ records' });
      // The unknown monitor's key may hash to another partition: its place in the DLQ is free.
      const reasons = dead.map((d) => d.reason);
      expect(reasons.filter((r) => r.startsWith('unknown monitor'))).toEqual([expect.stringContaining(unknownMonitor)]);
      expect(reasons.filter((r) => !r.startsWith('unknown monitor'))).toEqual([
        'value is not valid JSON',
        expect.stringContaining('failure_layer'),
        expect.stringContaining('record key must be'),
        'tenant-id header does not match tenant_id in the body',
      ]);
      expect(dead.find((d) => d.reason === 'value is not valid JSON')!.value).toBe('not json at all');
      const router = await stack.apps.get('severity-router')!.getUrl();
      const metrics = await (await fetch(`${router.replace('[::1]', '127.0.0.1')}/metrics`)).text();
      expect(metrics).toMatch(/tocsin_router_probe_results_total\{outcome="dead_lettered"\} 5/);
    } finally {
      await consumer.disconnect();
    }
  });

  it('commits the router group offset past every record it consumed', async () => {
    const admin = prober.kafka.admin();
    await admin.connect();
    try {
      const end = await admin.fetchTopicOffsets(topics.probeResults);
      const total = end.reduce((sum, p) => sum + Number(p.high), 0);
      const committed = await waitFor(
        async () => {
          const [group] = await admin.fetchOffsets({ groupId: `${stack.config.TOCSIN_TOPIC_NAMESPACE}tocsin.severity-router`, topics: [topics.probeResults] });
          const sum = group!.partitions.reduce((s, p) => s + Math.max(0, Number(p.offset)), 0);
          return sum === total && sum;
        },
        { description: 'router offsets at the end of the topic' },
      );
      expect(committed).toBe(total);
    } finally {
      await admin.disconnect();
    }
  });
});
