import { randomUUID } from 'node:crypto';
import { topicNames, type ProbeResult } from '@tocsin/contracts';
import { WebhookReceiver, waitFor } from '@tocsin/testing';
import { ApiClient, ExternalProber, startStack, type Stack } from '../src';

/** A router or dispatcher that stops and comes back neither loses an alert nor sends it twice. */
describe('restarts', () => {
  let stack: Stack;
  let receiver: WebhookReceiver;
  let api: ApiClient;
  let tenantId: string;
  let prober: ExternalProber;
  let clock = Date.now();

  const failure = (monitorId: string): ProbeResult => ({
    event_id: randomUUID(),
    tenant_id: tenantId,
    monitor_id: monitorId,
    observed_at: new Date((clock += 1000)).toISOString(),
    ok: false,
    failure_layer: 'http',
    http_status: 502,
    error: 'HTTP 502',
    source: 'kafka',
  });

  const produce = (results: ProbeResult[]) => prober.send(...results);

  let routerMonitorId: string;

  const monitor = async (slug: string) =>
    (await api.post<{ id: string }>('/v1/monitors', { slug, name: slug, url: `https://${slug}.example.com/mcp` })).body.id;

  beforeAll(async () => {
    [stack, receiver] = await Promise.all([startStack(['api', 'severity-router', 'dispatcher']), WebhookReceiver.start()]);
    ({ client: api, tenantId } = await ApiClient.tenant(stack.apiUrl, 'acme'));
    await api.post('/v1/endpoints', { name: 'pager', url: receiver.url, retry_schedule_seconds: [0, 1, 1, 1] });
    prober = await ExternalProber.connect(stack);
  });

  afterAll(async () => {
    await prober?.disconnect();
    await stack?.close();
    await receiver?.close();
  });

  it('a router restarted between failures still pages exactly once', async () => {
    const id = await monitor('router-restart');
    routerMonitorId = id;
    const first = [failure(id), failure(id)];
    await produce(first);
    await waitFor(async () => (await api.get<{ consecutive_failures: number }>(`/v1/monitors/${id}/status`)).body.consecutive_failures === 2, {
      description: 'two failures applied',
    });
    await stack.stop('severity-router');
    await produce([...first, failure(id)]);
    await stack.start('severity-router');
    const [started] = await receiver.waitForEvent('downtime_started');
    expect(started!.body).toMatchObject({ probe_count: 3, failure_layer: 'http', severity: 'P1' });
    const status = await api.get<{ status: string; consecutive_failures: number }>(`/v1/monitors/${id}/status`);
    expect(status.body).toMatchObject({ status: 'down', consecutive_failures: 3 });
    expect(receiver.ofEvent('downtime_started')).toHaveLength(1);
  });

  it('a dispatcher stopped while a delivery is retrying delivers it after restart, once', async () => {
    // The retry is due well after the stop, so it is the restarted dispatcher that sends it.
    const [endpoint] = (await api.get<{ data: Array<{ id: string }> }>('/v1/endpoints')).body.data;
    await api.call('PATCH', `/v1/endpoints/${endpoint!.id}`, { retry_schedule_seconds: [0, 6] });
    let failuresLeft = 1;
    receiver.respondWith(() => (failuresLeft-- > 0 ? { status: 503, body: 'busy' } : { status: 200 }));
    const id = await monitor('dispatcher-restart');
    await produce([failure(id), failure(id), failure(id)]);
    await receiver.waitForEvent('downtime_started', 2);
    await stack.stop('dispatcher');
    expect(receiver.ofEvent('downtime_started')).toHaveLength(2);
    await stack.start('dispatcher');
    const arrivals = await receiver.waitForEvent('downtime_started', 3);
    const [failed, retried] = arrivals.slice(1);
    expect(retried!.headers['webhook-id']).toBe(failed!.headers['webhook-id']);
    expect(retried!.headers['x-tocsin-attempt']).toBe('2');
    // The receiver has the request a moment before the dispatcher records its answer.
    const delivery = await waitFor(async () => {
      const d = await api.get<{ status: string; attempt_count: number; attempts: Array<{ outcome: string; http_status: number }> }>(
        `/v1/deliveries/${String(retried!.headers['webhook-id'])}`,
      );
      return d.body.status === 'delivered' && d;
    });
    expect(delivery.body).toMatchObject({ status: 'delivered', attempt_count: 2 });
    expect(delivery.body.attempts.map((a) => [a.outcome, a.http_status])).toEqual([
      ['failed', 503],
      ['succeeded', 200],
    ]);
  });

  it('a probe-results topic re-created from scratch is consumed from its start, not skipped', async () => {
    const admin = prober.kafka.admin();
    const topic = topicNames(stack.config.TOCSIN_TOPIC_NAMESPACE).probeResults;
    await admin.connect();
    try {
      await stack.stop('severity-router');
      await admin.deleteTopics({ topics: [topic] });
      await waitFor(async () => !(await admin.listTopics()).includes(topic), { description: 'topic deleted' });
      await stack.start('severity-router');
    } finally {
      await admin.disconnect();
    }
    // Offset 0 of the new topic, on the partition whose stored offset is already past it.
    await produce([{ ...failure(routerMonitorId), ok: true, failure_layer: undefined, error: undefined, http_status: 200 }]);
    const [resolved] = await receiver.waitForEvent('downtime_resolved');
    expect(resolved!.body.server_slug).toBe('router-restart');
  });
});
