import { Client } from 'pg';
import { WebhookReceiver, waitFor } from '@tocsin/testing';
import { AlertProducer, ApiClient, downtimeStarted, startStack, type Stack } from '../src';

const SLOW_ENDPOINTS = 32;
const SLOW_ANSWER_MS = 29_000;
const VICTIM_ALERTS = 40;

/**
 * One tenant's 32 endpoints answer 200 after 29 s: each holds its endpoint's slots for
 * the whole answer. Without a cap per tenant they would fill every dispatch slot (32 × 16
 * is the default 512); with it they hold at most a quarter, and another tenant's webhooks
 * go out as if they were not there.
 */
describe('fair capacity: one tenant\'s slow endpoints do not delay another\'s', () => {
  let stack: Stack;
  let alerts: AlertProducer;
  let slow: WebhookReceiver;
  let fast: WebhookReceiver;
  let db: Client;

  beforeAll(async () => {
    [stack, slow, fast] = await Promise.all([
      // The breaker's latency budget above the slow answers: this test is about slots, not the breaker.
      startStack(['api', 'dispatcher'], { TOCSIN_BREAKER_SLOW_MS: '60000' }),
      WebhookReceiver.start(),
      WebhookReceiver.start(),
    ]);
    slow.respondWith(() => ({ status: 200, body: 'ok', delayMs: SLOW_ANSWER_MS }));
    alerts = await AlertProducer.connect(stack);
    db = new Client({ connectionString: stack.database.url });
    await db.connect();
  });

  afterAll(async () => {
    // Closing the slow receiver first ends the attempts still waiting on it.
    await slow?.close();
    await alerts?.disconnect();
    await db?.end();
    await stack?.close();
    await fast?.close();
  });

  it('keeps the other tenant\'s p99 delay under a second', async () => {
    const hog = await ApiClient.tenant(stack.apiUrl, 'hog');
    for (let i = 0; i < SLOW_ENDPOINTS; i++) {
      const created = await hog.client.post('/v1/endpoints', { name: `slow-${i}`, url: slow.url, timeout_ms: 30_000 });
      expect(created.status).toBe(201);
    }
    const victim = await ApiClient.tenant(stack.apiUrl, 'victim');
    expect((await victim.client.post('/v1/endpoints', { name: 'pager', url: fast.url })).status).toBe(201);

    // Enough of the hog's alerts to fill every slot of all 32 endpoints, and more queued.
    await alerts.send(...Array.from({ length: 40 }, () => downtimeStarted(hog.tenantId)));
    const perTenant = stack.config.TOCSIN_TENANT_MAX_IN_FLIGHT ?? Math.floor(stack.config.TOCSIN_DISPATCH_CONCURRENCY / 4);
    const held = await waitFor(
      async () => {
        const { rows } = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM deliveries WHERE tenant_id = $1 AND status = 'in_flight'`, [hog.tenantId]);
        return rows[0]!.n >= perTenant && rows[0]!.n;
      },
      { description: 'the hog holding its share of the slots' },
    );
    // Never more than its share, however much it has queued.
    expect(held).toBe(perTenant);
    await waitFor(() => slow.received.length >= perTenant, { description: 'the hog\'s attempts waiting on its receiver' });
    expect(slow.received.length).toBe(perTenant);

    // The victim's alerts, one at a time while the hog's answers are still pending.
    const delays: number[] = [];
    for (let i = 0; i < VICTIM_ALERTS; i++) {
      const sentAt = Date.now();
      await alerts.send(downtimeStarted(victim.tenantId));
      const [arrived] = await fast.waitForEvent('downtime_started', i + 1, { timeoutMs: 10_000 });
      delays.push(fast.ofEvent('downtime_started')[i]!.receivedAt.getTime() - sentAt);
      expect(arrived).toBeDefined();
    }
    delays.sort((a, b) => a - b);
    const p99 = delays[Math.ceil(delays.length * 0.99) - 1]!;
    expect(p99).toBeLessThanOrEqual(1_000);
    // Still within the first slow answers: the measurement was taken while they held their slots.
    const { rows } = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM deliveries WHERE tenant_id = $1 AND status = 'in_flight'`, [hog.tenantId]);
    expect(rows[0]!.n).toBe(perTenant);
  }, 120_000);
});
