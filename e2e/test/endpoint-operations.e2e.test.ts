import { createHmac } from 'node:crypto';
import { Client } from 'pg';
import { WebhookReceiver, waitFor, type ReceivedWebhook } from '@tocsin/testing';
import { AlertProducer, ApiClient, downtimeStarted, startStack, type Stack } from '../src';

interface Endpoint {
  id: string;
  secret: string;
  status: string;
  stats: { delivered: number; failed: number; success_rate: number | null; last_delivery_at: string | null };
  breaker: { state: string; consecutive_failures: number };
}

interface Delivery {
  id: string;
  status: string;
  attempt_count: number;
  attempts: Array<{ attempt: number; outcome: string; http_status: number | null; error_class: string | null }>;
}

/**
 * The webhook product from a receiver's and an operator's side: signatures through a
 * rotation, the retry rules, pause / resume / test / redeliver / replay, stats, degraded
 * and the circuit breaker, all through the real API, Kafka, Postgres and HTTP receivers.
 */
describe('endpoint operations', () => {
  let stack: Stack;
  let alerts: AlertProducer;
  const receivers: WebhookReceiver[] = [];

  beforeAll(async () => {
    stack = await startStack(['api', 'dispatcher'], { TOCSIN_BREAKER_COOLDOWN_MS: '1500', TOCSIN_BREAKER_THRESHOLD: '5' });
    alerts = await AlertProducer.connect(stack);
  });

  afterAll(async () => {
    await alerts?.disconnect();
    await stack?.close();
    await Promise.all(receivers.map((r) => r.close()));
  });

  /** A tenant of its own with one endpoint at a receiver of its own. */
  const scenario = async (name: string, endpoint: Record<string, unknown> = {}) => {
    const receiver = await WebhookReceiver.start();
    receivers.push(receiver);
    const { client: api, tenantId } = await ApiClient.tenant(stack.apiUrl, name);
    const created = await api.post<Endpoint>('/v1/endpoints', { name, url: receiver.url, ...endpoint });
    expect(created.status).toBe(201);
    return { receiver, api, tenantId, endpoint: created.body };
  };

  const attemptsOf = (received: readonly ReceivedWebhook[]) => received.map((r) => r.headers['x-tocsin-attempt']);

  it('seals the secret at rest, shows it at creation and on GET :id/secret only', async () => {
    const { api, endpoint } = await scenario('secrets');
    expect(endpoint.secret).toMatch(/^whsec_/);
    const db = new Client({ connectionString: stack.database.url });
    await db.connect();
    try {
      const { rows } = await db.query('SELECT secret FROM endpoints WHERE id = $1', [endpoint.id]);
      expect(rows[0].secret).toMatch(/^enc:v2:/);
      expect(rows[0].secret).not.toContain(endpoint.secret.slice(6, 20));
    } finally {
      await db.end();
    }
    expect((await api.get(`/v1/endpoints/${endpoint.id}/secret`)).body).toEqual({ secret: endpoint.secret, headers: {} });
    const list = await api.get<{ data: Array<Record<string, unknown>> }>('/v1/endpoints');
    expect(JSON.stringify(list.body)).not.toContain(endpoint.secret);
    expect(list.body.data[0]).toMatchObject({ status: 'active', stats: { delivered: 0, failed: 0, success_rate: null } });
    expect((await api.get(`/v1/endpoints/${endpoint.id}`)).body).not.toHaveProperty('secret');
  });

  it('sends webhook.test through the queue, signed; verifies with the old and the new secret during a rotation', async () => {
    const { receiver, api, endpoint } = await scenario('rotation');
    const test = await api.post<{ delivery_id: string }>(`/v1/endpoints/${endpoint.id}/test`, {});
    expect(test.status).toBe(202);
    const [first] = await receiver.waitForEvent('webhook.test');
    expect(first!.headers['webhook-id']).toBe(test.body.delivery_id);
    expect(WebhookReceiver.verify(endpoint.secret, first!)).toBe(true);
    expect(first!.headers['x-tocsin-event']).toBe('webhook.test');
    expect(first!.headers['x-tocsin-attempt']).toBe('1');

    const rotated = await api.post<{ secret: string; previous_expires_at: string }>(`/v1/endpoints/${endpoint.id}/rotate-secret`, {
      overlap_seconds: 300,
    });
    expect(rotated.status).toBe(200);
    expect(rotated.body.secret).toMatch(/^whsec_/);
    expect(rotated.body.secret).not.toBe(endpoint.secret);
    expect(Date.parse(rotated.body.previous_expires_at) - Date.now()).toBeGreaterThan(290_000);
    expect((await api.get(`/v1/endpoints/${endpoint.id}/secret`)).body).toEqual({ secret: rotated.body.secret, headers: {} });

    await api.post(`/v1/endpoints/${endpoint.id}/test`, {});
    const [, during] = await receiver.waitForEvent('webhook.test', 2);
    expect(String(during!.headers['webhook-signature']).split(' ')).toHaveLength(2);
    expect(WebhookReceiver.verify(endpoint.secret, during!)).toBe(true);
    expect(WebhookReceiver.verify(rotated.body.secret, during!)).toBe(true);
    expect(during!.headers['x-tocsin-signature']).toBe(
      `sha256=${createHmac('sha256', rotated.body.secret).update(during!.rawBody).digest('hex')}`,
    );

    // No overlap (a leaked secret): every older secret stops signing at once.
    const again = await api.post<{ secret: string }>(`/v1/endpoints/${endpoint.id}/rotate-secret`, { overlap_seconds: 0 });
    await api.post(`/v1/endpoints/${endpoint.id}/test`, {});
    const [, , after] = await receiver.waitForEvent('webhook.test', 3);
    expect(String(after!.headers['webhook-signature']).split(' ')).toHaveLength(1);
    expect(WebhookReceiver.verify(again.body.secret, after!)).toBe(true);
    expect(WebhookReceiver.verify(endpoint.secret, after!)).toBe(false);
    expect(WebhookReceiver.verify(rotated.body.secret, after!)).toBe(false);

    const bad = await api.post(`/v1/endpoints/${endpoint.id}/rotate-secret`, { overlap_seconds: -1 });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body)).toContain('overlap_seconds');
  });

  it('500, 500, 200: three attempts with one webhook-id and x-tocsin-attempt 1, 2, 3; stats count them', async () => {
    const { receiver, api, tenantId, endpoint } = await scenario('retries', { retry_schedule_seconds: [0, 1, 1] });
    receiver.respondWith((_, i) => (i < 2 ? { status: 500, body: 'boom' } : { status: 200 }));
    await alerts.send(downtimeStarted(tenantId));
    const received = await receiver.waitForEvent('downtime_started', 3);
    expect(new Set(received.map((r) => r.headers['webhook-id'])).size).toBe(1);
    expect(attemptsOf(received)).toEqual(['1', '2', '3']);
    const gap = received[2]!.receivedAt.getTime() - received[1]!.receivedAt.getTime();
    expect(gap).toBeGreaterThanOrEqual(900);
    const delivery = await waitFor(async () => {
      const d = await api.get<Delivery>(`/v1/deliveries/${String(received[0]!.headers['webhook-id'])}`);
      return d.body.status === 'delivered' && d.body;
    });
    expect(delivery.attempts.map((a) => [a.attempt, a.outcome, a.http_status])).toEqual([
      [1, 'failed', 500],
      [2, 'failed', 500],
      [3, 'succeeded', 200],
    ]);
    const shown = await waitFor(async () => {
      const e = await api.get<Endpoint>(`/v1/endpoints/${endpoint.id}`);
      return e.body.stats.delivered === 1 && e.body;
    });
    expect(shown.stats).toMatchObject({ delivered: 1, failed: 2, success_rate: 0.3333 });
    expect(Date.parse(String(shown.stats.last_delivery_at))).not.toBeNaN();
  });

  it('a 400 gets one attempt; 429 with Retry-After waits as told; a hanging receiver is cut at the timeout and retried', async () => {
    const rejected = await scenario('rejects');
    rejected.receiver.respondWith(() => ({ status: 400, body: 'no' }));
    await alerts.send(downtimeStarted(rejected.tenantId));
    const [only] = await rejected.receiver.waitForEvent('downtime_started');
    const dead = await waitFor(async () => {
      const d = await rejected.api.get<Delivery>(`/v1/deliveries/${String(only!.headers['webhook-id'])}`);
      return d.body.status === 'dead_lettered' && d.body;
    });
    expect(dead.attempts).toHaveLength(1);

    const limited = await scenario('rate-limited', { retry_schedule_seconds: [0, 0, 0] });
    limited.receiver.respondWith((_, i) => (i === 0 ? { status: 429, headers: { 'retry-after': '2' } } : { status: 200 }));
    await alerts.send(downtimeStarted(limited.tenantId));
    const [asked, honoured] = await limited.receiver.waitForEvent('downtime_started', 2);
    expect(honoured!.receivedAt.getTime() - asked!.receivedAt.getTime()).toBeGreaterThanOrEqual(1900);

    const hanging = await scenario('hanging', { retry_schedule_seconds: [0, 0], timeout_ms: 1000 });
    hanging.receiver.respondWith((_, i) => (i === 0 ? 'hang' : { status: 200 }));
    await alerts.send(downtimeStarted(hanging.tenantId));
    const [hung, retried] = await hanging.receiver.waitForEvent('downtime_started', 2);
    const cut = retried!.receivedAt.getTime() - hung!.receivedAt.getTime();
    expect(cut).toBeGreaterThanOrEqual(950);
    expect(cut).toBeLessThan(5000);
    const delivery = await waitFor(async () => {
      const d = await hanging.api.get<Delivery>(`/v1/deliveries/${String(hung!.headers['webhook-id'])}`);
      return d.body.status === 'delivered' && d.body;
    });
    expect(delivery.attempts.map((a) => [a.outcome, a.error_class])).toEqual([
      ['failed', 'timeout'],
      ['succeeded', null],
    ]);
  });

  it('pause records skipped with no request; resume delivers again; replay sends what its dry run counted; redeliver keeps the id', async () => {
    const { receiver, api, tenantId, endpoint } = await scenario('pausing');
    const paused = await api.post<Endpoint>(`/v1/endpoints/${endpoint.id}/pause`, {});
    expect(paused.body.status).toBe('paused');
    const from = new Date(Date.now() - 1000).toISOString();
    await alerts.send(downtimeStarted(tenantId), downtimeStarted(tenantId));
    const skipped = await waitFor(async () => {
      const list = await api.get<{ data: Array<{ id: string; status: string }> }>(`/v1/endpoints/${endpoint.id}/deliveries?status=skipped`);
      return list.body.data.length === 2 && list.body.data;
    });
    expect(receiver.received).toHaveLength(0);

    expect((await api.post<Endpoint>(`/v1/endpoints/${endpoint.id}/resume`, {})).body.status).toBe('active');
    await alerts.send(downtimeStarted(tenantId));
    await receiver.waitForEvent('downtime_started', 1);

    const to = new Date(Date.now() + 1000).toISOString();
    const dry = await api.post<{ count: number }>(`/v1/endpoints/${endpoint.id}/replay`, { from, to, dry_run: true });
    expect(dry.body.count).toBe(2);
    expect(receiver.received).toHaveLength(1);
    const replay = await api.post<{ count: number }>(`/v1/endpoints/${endpoint.id}/replay`, { from, to });
    expect(replay.body.count).toBe(dry.body.count);
    const arrived = await receiver.waitForEvent('downtime_started', 3);
    expect(arrived.slice(1).map((r) => r.headers['webhook-id']).sort()).toEqual(skipped.map((d) => d.id).sort());
    expect((await api.post<{ count: number }>(`/v1/endpoints/${endpoint.id}/replay`, { from, to, dry_run: true })).body.count).toBe(0);

    const first = String(arrived[0]!.headers['webhook-id']);
    await waitFor(async () => (await api.get<Delivery>(`/v1/deliveries/${first}`)).body.status === 'delivered');
    const redeliver = await api.post<{ delivery_id: string }>(`/v1/deliveries/${first}/redeliver`, {});
    expect(redeliver.status).toBe(202);
    expect(redeliver.body.delivery_id).toBe(first);
    const all = await receiver.waitForEvent('downtime_started', 4);
    expect(all[3]!.headers['webhook-id']).toBe(first);
    expect(all[3]!.headers['x-tocsin-attempt']).toBe('2');
    expect(WebhookReceiver.verify(endpoint.secret, all[3]!)).toBe(true);

    const badRange = await api.post(`/v1/endpoints/${endpoint.id}/replay`, { from: to, to: from });
    expect(badRange.status).toBe(400);
    expect(JSON.stringify(badRange.body)).toContain('to');
  });

  it('bounds a replay: at most 7 days, at most 10,000 deliveries, and a refused one requeues nothing', async () => {
    const { receiver, api, tenantId, endpoint } = await scenario('replayed');
    const week = await api.post<{ message: string }>(`/v1/endpoints/${endpoint.id}/replay`, {
      from: new Date(Date.now() - 8 * 86_400_000).toISOString(),
      to: new Date().toISOString(),
    });
    expect(week.status).toBe(400);
    expect(week.body.message).toMatch(/at most 7 days after from/);

    await api.post(`/v1/endpoints/${endpoint.id}/test`, {});
    const [test] = await receiver.waitForEvent('webhook.test');
    const db = new Client({ connectionString: stack.database.url });
    await db.connect();
    try {
      // 10,001 failed copies of the test delivery: one more than a replay may send.
      await db.query(
        `INSERT INTO deliveries (id, tenant_id, endpoint_id, alert_event_id, event_type, dedup_key, sequence, body, status, attempts, stream_version)
         SELECT gen_random_uuid(), tenant_id, endpoint_id, gen_random_uuid(), event_type, dedup_key || '-' || n, sequence, body, 'failed', 1, stream_version
         FROM deliveries, generate_series(1, 10001) n WHERE id = $1`,
        [String(test!.headers['webhook-id'])],
      );
      const range = { from: new Date(Date.now() - 3_600_000).toISOString(), to: new Date(Date.now() + 60_000).toISOString() };
      const tooMany = await api.post<{ message: string }>(`/v1/endpoints/${endpoint.id}/replay`, range);
      expect(tooMany.status).toBe(400);
      expect(tooMany.body.message).toMatch(/more than 10000 failed or skipped deliveries in this range/);
      const { rows } = await db.query("SELECT count(*)::int AS n FROM deliveries WHERE tenant_id = $1 AND status = 'failed'", [tenantId]);
      expect(rows[0].n).toBe(10_001);
    } finally {
      await db.end();
    }
  });

  it("another tenant's endpoint and delivery answer 404 to every operation", async () => {
    const owner = await scenario('owner');
    const { client: other } = await ApiClient.tenant(stack.apiUrl, 'intruder');
    await owner.api.post(`/v1/endpoints/${owner.endpoint.id}/test`, {});
    const [test] = await owner.receiver.waitForEvent('webhook.test');
    const deliveryId = String(test!.headers['webhook-id']);
    const base = `/v1/endpoints/${owner.endpoint.id}`;
    for (const path of ['pause', 'resume', 'test', 'rotate-secret']) {
      expect((await other.post(`${base}/${path}`, {})).status).toBe(404);
    }
    const range = { from: new Date(Date.now() - 3_600_000).toISOString(), to: new Date().toISOString() };
    expect((await other.post(`${base}/replay`, range)).status).toBe(404);
    expect((await other.post(`/v1/deliveries/${deliveryId}/redeliver`, {})).status).toBe(404);
    expect((await other.get(`${base}/secret`)).status).toBe(404);
  });

  it('a failing endpoint turns degraded and its breaker opens; both clear after it recovers', async () => {
    const { receiver, api, tenantId, endpoint } = await scenario('flaky', { retry_schedule_seconds: [0, 1, 1, 1, 1, 1, 1, 1] });
    let healthy = false;
    receiver.respondWith(() => (healthy ? { status: 200 } : { status: 503, body: 'down' }));
    await alerts.send(...Array.from({ length: 8 }, () => downtimeStarted(tenantId)));
    const broken = await waitFor(
      async () => {
        const e = (await api.get<Endpoint>(`/v1/endpoints/${endpoint.id}`)).body;
        return e.status === 'degraded' && e.breaker.state !== 'closed' && e;
      },
      { description: 'degraded with an open breaker' },
    );
    expect(broken.breaker.consecutive_failures).toBeGreaterThanOrEqual(5);
    // While open, the endpoint is left alone: no more requests until the cooldown ends.
    const seen = receiver.received.length;
    const state = (await api.get<Endpoint>(`/v1/endpoints/${endpoint.id}`)).body.breaker.state;
    if (state === 'open') expect(receiver.received.length).toBe(seen);

    healthy = true;
    const recovered = await waitFor(
      async () => {
        const e = (await api.get<Endpoint>(`/v1/endpoints/${endpoint.id}`)).body;
        return e.status === 'active' && e.breaker.state === 'closed' && e;
      },
      { timeoutMs: 60_000, description: 'active again with a closed breaker' },
    );
    expect(recovered.stats.delivered).toBeGreaterThanOrEqual(3);
    const delivered = await waitFor(async () => {
      const list = await api.get<{ data: Array<{ status: string }> }>(`/v1/endpoints/${endpoint.id}/deliveries?status=delivered&limit=50`);
      return list.body.data.length === 8 && list.body.data;
    }, { timeoutMs: 60_000, description: 'all eight delivered' });
    expect(delivered).toHaveLength(8);
  });
});
