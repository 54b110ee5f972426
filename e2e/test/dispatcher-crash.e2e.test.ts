import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { Client } from 'pg';
import { WebhookReceiver, waitFor } from '@tocsin/testing';
import { AlertProducer, ApiClient, downtimeStarted, startStack, type Stack } from '../src';

const DISPATCHER_MAIN = path.resolve(__dirname, '../../apps/dispatcher/dist/main.js');
const ENDPOINTS = 10;
const ALERTS = 100;

/**
 * The dispatcher as a real process, killed with SIGKILL while a thousand deliveries are
 * queued or in flight, then started again: every delivery arrives, and none is recorded
 * delivered unless the receiver answered that very attempt with a 2xx. Then stopped with
 * SIGTERM under the same load: it drains (exit 0, no lease left, every answered attempt
 * recorded), and after a restart no webhook was answered 2xx twice.
 */
describe('a dispatcher killed with SIGKILL, or stopped with SIGTERM', () => {
  let stack: Stack;
  let receiver: WebhookReceiver;
  let alerts: AlertProducer;
  let dispatcher: ChildProcess | undefined;
  /** `<webhook-id>#<attempt>` of every request the receiver answered with a 2xx. */
  const answered2xx = new Set<string>();

  const startDispatcher = () => {
    const child = spawn(process.execPath, [DISPATCHER_MAIN], {
      env: {
        ...process.env,
        DATABASE_URL: stack.config.DATABASE_URL,
        KAFKA_BROKERS: stack.config.KAFKA_BROKERS.join(','),
        TOCSIN_TOPIC_NAMESPACE: stack.config.TOCSIN_TOPIC_NAMESPACE,
        TOCSIN_TOPIC_PARTITIONS: String(stack.config.TOCSIN_TOPIC_PARTITIONS),
        TOCSIN_ENCRYPTION_KEY: stack.config.TOCSIN_ENCRYPTION_KEY,
        TOCSIN_ALLOW_PRIVATE_URLS: 'true',
        TOCSIN_MIGRATE_ON_BOOT: 'false',
        TOCSIN_DISPATCH_POLL_MS: '50',
        // A loaded test machine can stall the receiver into timeouts that open a breaker;
        // keep its cooldown short so the test is about the crash, not the breaker.
        TOCSIN_BREAKER_COOLDOWN_MS: '1000',
        PORT: '0',
        HOST: '127.0.0.1',
        LOG_LEVEL: 'error',
      },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    return child;
  };

  beforeAll(async () => {
    [stack, receiver] = await Promise.all([startStack(['api']), WebhookReceiver.start()]);
    alerts = await AlertProducer.connect(stack);
  });

  afterAll(async () => {
    if (dispatcher && dispatcher.exitCode === null) {
      const exited = new Promise((resolve) => dispatcher!.once('exit', resolve));
      dispatcher.kill('SIGTERM');
      await exited;
    }
    await alerts?.disconnect();
    await stack?.close();
    await receiver?.close();
  });

  it('loses no delivery and records none delivered without a 2xx', async () => {
    const { client: api, tenantId } = await ApiClient.tenant(stack.apiUrl, 'crash');
    for (let i = 0; i < ENDPOINTS; i++) {
      const created = await api.post('/v1/endpoints', { name: `e${i}`, url: receiver.url, timeout_ms: 5000, retry_schedule_seconds: [0, 1, 1, 1, 1, 1, 1, 1] });
      expect(created.status).toBe(201);
    }
    // Slow enough that many attempts are in flight at the kill; every 10th request fails.
    receiver.respondWith((request, index) => {
      if (index % 10 === 9) return { status: 503, delayMs: 30 };
      answered2xx.add(`${String(request.headers['webhook-id'])}#${String(request.headers['x-tocsin-attempt'])}`);
      return { status: 200, delayMs: 30 + (index % 7) * 10 };
    });

    dispatcher = startDispatcher();
    await alerts.send(...Array.from({ length: ALERTS }, () => downtimeStarted(tenantId)));
    const db = new Client({ connectionString: stack.config.DATABASE_URL });
    await db.connect();
    try {
      const total = ENDPOINTS * ALERTS;
      await waitFor(async () => (await count(db, "SELECT count(*) FROM deliveries")) === total, {
        timeoutMs: 60_000,
        description: `${total} deliveries created`,
      });
      await waitFor(() => receiver.received.length >= 150, { timeoutMs: 60_000, description: 'deliveries under way' });
      const inFlight = await count(db, "SELECT count(*) FROM deliveries WHERE status = 'in_flight'");
      dispatcher.kill('SIGKILL');
      await new Promise((resolve) => (dispatcher!.exitCode !== null || dispatcher!.signalCode !== null ? resolve(null) : dispatcher!.once('exit', resolve)));
      const deliveredAtKill = await count(db, "SELECT count(*) FROM deliveries WHERE status = 'delivered'");
      expect(deliveredAtKill).toBeLessThan(total);
      expect(inFlight).toBeGreaterThan(0);

      dispatcher = startDispatcher();
      await waitFor(async () => (await count(db, "SELECT count(*) FROM deliveries WHERE status = 'delivered'")) === total, {
        timeoutMs: 90_000,
        intervalMs: 200,
        description: 'every delivery delivered after the restart',
      }).catch(async (err: Error) => {
        const { rows } = await db.query('SELECT status, count(*)::int AS n FROM deliveries GROUP BY status');
        const breakers = await db.query('SELECT breaker_state, breaker_retry_at, breaker_failures FROM endpoint_stats');
        throw new Error(`${err.message}; deliveries by status: ${JSON.stringify(rows)}; breakers: ${JSON.stringify(breakers.rows)}`);
      });

      const ids = new Set((await db.query<{ id: string }>('SELECT id FROM deliveries')).rows.map((r) => r.id));
      const arrived = new Set(receiver.received.map((r) => String(r.headers['webhook-id'])));
      expect([...ids].filter((id) => !arrived.has(id))).toEqual([]);

      const succeeded = await db.query<{ stream_id: string; attempt: number }>(
        `SELECT stream_id, (data->>'attempt')::int AS attempt FROM events WHERE type = 'AttemptSucceeded'`,
      );
      expect(succeeded.rows).toHaveLength(total);
      const unproven = succeeded.rows.filter((r) => !answered2xx.has(`${r.stream_id.slice('delivery-'.length)}#${r.attempt}`));
      expect(unproven).toEqual([]);
    } finally {
      await db.end();
    }
  });

  it('stopped with SIGTERM under load, it finishes and records what it holds, exits 0, and nothing is sent twice', async () => {
    const { client: api, tenantId } = await ApiClient.tenant(stack.apiUrl, 'drain');
    for (let i = 0; i < ENDPOINTS; i++) {
      expect((await api.post('/v1/endpoints', { name: `d${i}`, url: receiver.url, timeout_ms: 5000, retry_schedule_seconds: [0, 1, 1, 1, 1, 1, 1, 1] })).status).toBe(201);
    }
    const db = new Client({ connectionString: stack.config.DATABASE_URL });
    await db.connect();
    try {
      const total = ENDPOINTS * ALERTS;
      const ofTenant = `FROM deliveries WHERE tenant_id = '${tenantId}'`;
      const before = receiver.received.length;
      await alerts.send(...Array.from({ length: ALERTS }, () => downtimeStarted(tenantId)));
      await waitFor(() => receiver.received.length - before >= 150, { timeoutMs: 60_000, description: 'deliveries under way' });
      const running = dispatcher!;
      const exited = new Promise<number | null>((resolve) => running.once('exit', (code) => resolve(code)));
      const signalledAt = Date.now();
      running.kill('SIGTERM');
      expect(await exited).toBe(0);
      expect(Date.now() - signalledAt).toBeLessThan(30_000);

      // Nothing left to a lease: every attempt it started was finished and recorded.
      expect(await count(db, `SELECT count(*) ${ofTenant} AND status = 'in_flight'`)).toBe(0);
      const recorded = await db.query<{ key: string }>(
        `SELECT substr(stream_id, length('delivery-') + 1) || '#' || (data->>'attempt') AS key
         FROM events WHERE type = 'AttemptSucceeded' AND stream_id IN (SELECT 'delivery-' || id ${ofTenant})`,
      );
      const recordedKeys = new Set(recorded.rows.map((r) => r.key));
      const ids = new Set((await db.query<{ id: string }>(`SELECT id ${ofTenant}`)).rows.map((r) => r.id));
      const answeredHere = [...answered2xx].filter((key) => ids.has(key.split('#')[0]!));
      expect(answeredHere.filter((key) => !recordedKeys.has(key))).toEqual([]);
      expect(await count(db, `SELECT count(*) ${ofTenant} AND status = 'delivered'`)).toBeLessThan(total);

      dispatcher = startDispatcher();
      await waitFor(async () => (await count(db, `SELECT count(*) ${ofTenant} AND status = 'delivered'`)) === total, {
        timeoutMs: 90_000,
        intervalMs: 200,
        description: 'every delivery delivered after the restart',
      });
      // A drained stop hands nothing back to be sent again: each webhook got one 2xx.
      const twice = new Map<string, number>();
      for (const key of [...answered2xx].filter((k) => ids.has(k.split('#')[0]!))) twice.set(key.split('#')[0]!, (twice.get(key.split('#')[0]!) ?? 0) + 1);
      expect([...twice].filter(([, n]) => n > 1)).toEqual([]);
      expect(twice.size).toBe(total);
    } finally {
      await db.end();
    }
  });
});

async function count(db: Client, sql: string): Promise<number> {
  const { rows } = await db.query<{ count: string }>(sql);
  return Number(rows[0]!.count);
}
