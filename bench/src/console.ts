/**
 * Console pages at size: seeds one tenant with 10,000 monitors (each with a status snapshot
 * and a resolved incident) and one endpoint with 1,000,000 deliveries (each with its attempt
 * event) by bulk SQL, starts the built API as a process, and times every /v1 call a console
 * page makes, the way the page makes them (the same limits, order and parallelism). Prints
 * each page's median and p95, the slowest page, and the bare Postgres time of the queries
 * underneath.
 *
 *   npm run bench:console -- --monitors 10000 --deliveries 1000000 --runs 20
 */
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { Client } from 'pg';
import { createTestDatabase, waitFor } from '@tocsin/testing';
import { appEnv, freePort, percentile, startApp } from './harness';

const ADMIN = `bench-admin-${randomBytes(8).toString('hex')}`;

const { values } = parseArgs({
  options: {
    monitors: { type: 'string', default: '10000' },
    deliveries: { type: 'string', default: '1000000' },
    runs: { type: 'string', default: '20' },
    keep: { type: 'boolean', default: false },
  },
});
const MONITORS = Number(values.monitors);
const DELIVERIES = Number(values.deliveries);
const RUNS = Number(values.runs);

const ms = (n: number) => `${n < 10 ? n.toFixed(1) : Math.round(n)} ms`;

async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

class Api {
  constructor(
    readonly base: string,
    private readonly token: string,
  ) {}

  async call<T>(method: string, pathAndQuery: string, body?: unknown): Promise<T> {
    const res = await fetch(`${this.base}${pathAndQuery}`, {
      method,
      headers: { authorization: `Bearer ${this.token}`, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${pathAndQuery} → ${res.status} ${text}`);
    return JSON.parse(text) as T;
  }

  get<T>(pathAndQuery: string): Promise<T> {
    return this.call<T>('GET', pathAndQuery);
  }
}

interface Listed {
  data: Array<{ id: string; dedup_key?: string }>;
  next_cursor: string | null;
}

/** The cursor the API issues for a row at (at, id): how the console reaches a deep page. */
function cursorAt(at: Date, id: string): string {
  return Buffer.from(JSON.stringify({ at: at.toISOString(), id })).toString('base64url');
}

async function seed(db: Client, tenantId: string, endpointId: string): Promise<void> {
  const t0 = Date.now();
  await db.query(
    `INSERT INTO monitors (id, tenant_id, slug, name, url, kind, interval_seconds, timeout_ms, confirm_after, recover_after, created_at, updated_at)
     SELECT gen_random_uuid(), $1, 'mcp-' || g, 'MCP server ' || g, 'https://mcp-' || g || '.example.com/mcp', 'mcp', 60, 5000, 3, 1,
            now() - make_interval(secs => g), now()
     FROM generate_series(1, $2::int) g`,
    [tenantId, MONITORS],
  );
  await db.query(
    `INSERT INTO monitor_state (tenant_id, monitor_id, stream_version, state, last_probe_at)
     SELECT tenant_id::text, id::text, 2, '{"lastOk": true, "consecutiveFailures": 0, "consecutiveSuccesses": 9}', now()
     FROM monitors WHERE tenant_id = $1`,
    [tenantId],
  );
  await db.query(
    `INSERT INTO incidents (dedup_key, tenant_id, monitor_id, incident_seq, status, severity, failure_layer, started_at, resolved_at, probe_count, last_error)
     SELECT 'tcs_' || md5(id::text), tenant_id::text, id::text, 1, 'resolved', 'P1', 'transport',
            created_at, created_at + interval '4 minutes', 3, 'connect ECONNREFUSED'
     FROM monitors WHERE tenant_id = $1`,
    [tenantId],
  );
  process.stdout.write(`seeded ${MONITORS} monitors, snapshots and incidents in ${Date.now() - t0} ms\n`);
  const t1 = Date.now();
  // One in 50 dead-lettered (HTTP 500), the rest delivered; two per incident, half a second apart.
  await db.query(
    `INSERT INTO deliveries (id, tenant_id, endpoint_id, alert_event_id, event_type, dedup_key, sequence, body, status, attempts,
                             last_http_status, last_error, stream_version, created_at, updated_at)
     SELECT gen_random_uuid(), $1, $2, gen_random_uuid(),
            CASE WHEN g % 2 = 0 THEN 'downtime_started' ELSE 'downtime_resolved' END,
            'tcs_' || md5((g / 2)::text), 1 + g % 2,
            '{"event": "downtime_started", "severity": "P1", "failure_layer": "transport"}',
            CASE WHEN g % 50 = 0 THEN 'dead_lettered' ELSE 'delivered' END, 1,
            CASE WHEN g % 50 = 0 THEN 500 ELSE 200 END,
            CASE WHEN g % 50 = 0 THEN 'HTTP 500' END, 3,
            now() - make_interval(secs => g * 0.5), now() - make_interval(secs => g * 0.5)
     FROM generate_series(1, $3::int) g`,
    [tenantId, endpointId, DELIVERIES],
  );
  process.stdout.write(`seeded ${DELIVERIES} deliveries in ${Date.now() - t1} ms\n`);
  const t2 = Date.now();
  await db.query(
    `INSERT INTO events (event_id, stream_id, stream_version, type, schema_version, data, metadata, recorded_at)
     SELECT gen_random_uuid(), 'delivery-' || id, 1,
            CASE WHEN status = 'delivered' THEN 'AttemptSucceeded' ELSE 'AttemptFailed' END, 1,
            jsonb_build_object('attempt', 1, 'http_status', last_http_status, 'duration_ms', 12, 'request_bytes', 610,
                               'response_snippet', CASE WHEN status = 'delivered' THEN 'ok' ELSE 'internal error' END),
            jsonb_build_object('tenant_id', tenant_id), created_at
     FROM deliveries WHERE endpoint_id = $1`,
    [endpointId],
  );
  await db.query('ANALYZE');
  process.stdout.write(`seeded ${DELIVERIES} attempt events and analyzed in ${Date.now() - t2} ms\n`);
}

interface PageTiming {
  readonly name: string;
  readonly p50: number;
  readonly p95: number;
}

async function time(name: string, load: () => Promise<unknown>): Promise<PageTiming> {
  await load(); // warm: connection pool, plan cache
  const samples: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t = performance.now();
    await load();
    samples.push(performance.now() - t);
  }
  samples.sort((a, b) => a - b);
  const result = { name, p50: percentile(samples, 50), p95: percentile(samples, 95) };
  process.stdout.write(`console page ${name}: p50 ${ms(result.p50)}, p95 ${ms(result.p95)}\n`);
  return result;
}

async function bare(db: Client, name: string, sql: string, params: unknown[]): Promise<void> {
  await db.query(sql, params);
  const samples: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t = performance.now();
    await db.query(sql, params);
    samples.push(performance.now() - t);
  }
  samples.sort((a, b) => a - b);
  process.stdout.write(`bare Postgres ${name}: p50 ${ms(percentile(samples, 50))}, p95 ${ms(percentile(samples, 95))}\n`);
}

async function main(): Promise<void> {
  const database = await createTestDatabase();
  const port = await freePort();
  const env = {
    ...appEnv({ databaseUrl: database.url, namespace: `bench-${randomBytes(4).toString('hex')}.`, adminToken: ADMIN }),
    PORT: String(port),
    // The benchmark loads pages back to back, far faster than a person; it measures the
    // API's time per page, not the per-key rate limit.
    TOCSIN_RATE_LIMIT_PER_SECOND: '0',
  };

  const api: ChildProcess = startApp('api', env);
  const db = new Client({ connectionString: database.url });
  await db.connect();
  try {
    const base = `http://127.0.0.1:${port}`;
    await waitFor(async () => (await fetch(`${base}/health/ready`).catch(() => undefined))?.ok ?? false, {
      description: 'api ready',
      timeoutMs: 60_000,
    });
    const admin = new Api(base, ADMIN);
    const tenant = await admin.call<{ id: string }>('POST', '/v1/tenants', { name: 'bench' });
    const { key } = await admin.call<{ key: string }>('POST', `/v1/tenants/${tenant.id}/api-keys`, {});
    const client = new Api(base, key);
    const endpoint = await client.call<{ id: string }>('POST', '/v1/endpoints', { name: 'pager', url: 'http://127.0.0.1:9/hook' });
    await seed(db, tenant.id, endpoint.id);

    const middleMonitor = (
      await db.query<{ created_at: Date; id: string }>(
        `SELECT created_at, id FROM monitors WHERE tenant_id = $1 ORDER BY created_at, id OFFSET $2 LIMIT 1`,
        [tenant.id, Math.floor(MONITORS / 2)],
      )
    ).rows[0]!;
    const middleDelivery = (
      await db.query<{ created_at: Date; id: string }>(
        `SELECT created_at, id FROM deliveries WHERE endpoint_id = $1 ORDER BY created_at DESC, id DESC OFFSET $2 LIMIT 1`,
        [endpoint.id, Math.floor(DELIVERIES / 2)],
      )
    ).rows[0]!;
    const someIncident = (await client.get<Listed>('/v1/incidents?limit=1&order=desc')).data[0]!.dedup_key!;
    const someMonitor = (await client.get<Listed>('/v1/monitors?limit=1')).data[0]!.id;
    const optional = async (p: string) => client.get(p).catch(() => undefined); // routes a server may not have yet

    const monitorsPage = async (cursor?: string) => {
      const page = await client.get<Listed>(`/v1/monitors?limit=25${cursor ? `&cursor=${cursor}` : ''}`);
      await mapLimit(page.data, 8, (m) => client.get(`/v1/monitors/${m.id}/status`));
    };
    const endpointPage = async (cursor?: string) => {
      const [, page] = await Promise.all([
        client.get(`/v1/endpoints/${endpoint.id}`),
        client.get<Listed>(`/v1/endpoints/${endpoint.id}/deliveries?limit=20&order=desc${cursor ? `&cursor=${cursor}` : ''}`),
      ]);
      await mapLimit(page.data.slice(0, 10), 6, (d) => client.get(`/v1/deliveries/${d.id}`));
    };

    const timings: PageTiming[] = [];
    timings.push(await time(`monitors (first 25 of ${MONITORS}, with status)`, () => monitorsPage()));
    timings.push(await time(`monitors (25 from the middle)`, () => monitorsPage(cursorAt(middleMonitor.created_at, middleMonitor.id))));
    timings.push(
      await time('monitor', () =>
        Promise.all([
          client.get(`/v1/monitors/${someMonitor}`),
          client.get(`/v1/monitors/${someMonitor}/status`),
          client.get('/v1/incidents?limit=200&order=desc'),
          optional(`/v1/monitors/${someMonitor}/maintenance`),
        ]),
      ),
    );
    timings.push(await time(`incidents (newest 50 of ${MONITORS} resolved)`, () => client.get('/v1/incidents?limit=50&order=desc&status=resolved')));
    timings.push(await time('incident (timeline and deliveries)', () => client.get(`/v1/incidents/${someIncident}`)));
    timings.push(
      await time(`endpoints (stats over ${DELIVERIES} deliveries)`, async () => {
        const page = await client.get<Listed>('/v1/endpoints?limit=25');
        await mapLimit(page.data, 8, (e) => client.get(`/v1/endpoints/${e.id}`));
      }),
    );
    timings.push(await time(`endpoint (newest 20 of ${DELIVERIES} deliveries, 10 with attempts)`, () => endpointPage()));
    timings.push(
      await time(`endpoint (20 deliveries from the middle)`, () =>
        endpointPage(cursorAt(middleDelivery.created_at, middleDelivery.id)),
      ),
    );
    const slowest = [...timings].sort((a, b) => b.p50 - a.p50)[0]!;
    process.stdout.write(`console slowest page: ${slowest.name}: p50 ${ms(slowest.p50)}, p95 ${ms(slowest.p95)}\n`);

    const at = `date_trunc('milliseconds', created_at AT TIME ZONE 'UTC')`;
    await bare(db, 'monitors page (25 rows)', `SELECT * FROM monitors WHERE tenant_id = $1 ORDER BY ${at}, id LIMIT 26`, [tenant.id]);
    await bare(db, 'deliveries page (20 newest rows)', `SELECT * FROM deliveries WHERE tenant_id = $1 AND endpoint_id = $2 ORDER BY ${at} DESC, id DESC LIMIT 21`, [
      tenant.id,
      endpoint.id,
    ]);
    await bare(
      db,
      `endpoint stats (count over ${DELIVERIES} deliveries)`,
      `SELECT count(*) FILTER (WHERE status = 'delivered') AS delivered, count(*) FILTER (WHERE status = 'dead_lettered') AS failed,
              max(updated_at) FILTER (WHERE status = 'delivered') AS last FROM deliveries WHERE tenant_id = $1 AND endpoint_id = $2`,
      [tenant.id, endpoint.id],
    );
    await bare(db, 'SELECT 1 round trip', 'SELECT 1', []);
  } finally {
    await db.end();
    api.kill('SIGTERM');
    await new Promise((resolve) => api.once('exit', resolve));
    if (!values.keep) await database.drop();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
