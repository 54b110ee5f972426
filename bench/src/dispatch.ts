/**
 * Dispatcher benchmark: the built dispatcher runs as a process against real Kafka and
 * Postgres and delivers to a local receiver (another process) on E endpoints. It prints
 *  - deliveries/s from producing A alerts to the last delivery recorded (E × A webhooks,
 *    every attempt in the event log), beside a bare undici client POSTing the same
 *    number of bodies to the same receiver in the same run;
 *  - the claim query's time with 1,000,000 delivered rows in the table, beside a bare
 *    `FOR UPDATE SKIP LOCKED` pop of the same number of rows.
 *
 *   npm run bench:dispatch -- --endpoints 100 --alerts 100 --history 1000000
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { Kafka, logLevel, Partitioners } from 'kafkajs';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { Agent, request } from 'undici';
import { ALERT_EVENT_SCHEMA, HEADERS, topicNames, type AlertEvent } from '@tocsin/contracts';
import { dataSourceOptions } from '@tocsin/database';
import { DeliveryRepository } from '@tocsin/dispatcher';
import { generateEncryptionKey, sealedIn, SecretBox } from '@tocsin/secrets';
import { generateWebhookSecret, signWebhook } from '@tocsin/signing';
import { appMainArgs, createTestDatabase, waitFor } from '@tocsin/testing';
import { freePort } from './harness';


const { values } = parseArgs({
  options: {
    endpoints: { type: 'string', default: '100' },
    // The endpoints are spread over this many tenants: one tenant alone may hold only
    // TOCSIN_TENANT_MAX_IN_FLIGHT (a quarter) of the slots.
    tenants: { type: 'string', default: '8' },
    alerts: { type: 'string', default: '100' },
    history: { type: 'string', default: '1000000' },
    concurrency: { type: 'string', default: '512' },
    // Dispatcher processes sharing the queue (the Kubernetes manifests run 2).
    replicas: { type: 'string', default: '1' },
    explain: { type: 'boolean', default: false },
  },
});
const ENDPOINTS = Number(values.endpoints);
const TENANTS = Number(values.tenants);
const ALERTS = Number(values.alerts);
const HISTORY = Number(values.history);
const CONCURRENCY = Number(values.concurrency);
const REPLICAS = Number(values.replicas);

const RECEIVER = `
const http = require('node:http');
let n = 0;
const server = http.createServer((req, res) => {
  if (req.method === 'GET') return res.writeHead(200, { 'content-type': 'text/plain' }).end(String(n));
  req.on('data', () => {});
  req.on('end', () => { n++; res.writeHead(200, { 'content-type': 'text/plain' }).end('ok'); });
});
server.keepAliveTimeout = 60000;
server.listen(0, '127.0.0.1', () => process.stdout.write(String(server.address().port) + '\\n'));
process.on('SIGTERM', () => { process.stdout.write('served ' + n + '\\n'); process.exit(0); });
`;

async function startReceiver(): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, ['-e', RECEIVER], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve) => child.stdout!.once('data', (d: Buffer) => resolve(Number(d.toString().trim()))));
  return { child, url: `http://127.0.0.1:${port}/hooks` };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1]!;
}

async function main(): Promise<void> {
  const brokers = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
  const database = await createTestDatabase();
  const namespace = `bench-${randomBytes(4).toString('hex')}.`;
  const encryptionKey = generateEncryptionKey();
  const box = SecretBox.fromEnv(encryptionKey);
  const receiver = await startReceiver();
  const db = new Client({ connectionString: database.url });
  await db.connect();
  const kafka = new Kafka({ clientId: 'bench', brokers, logLevel: logLevel.NOTHING });
  const producer = kafka.producer({ idempotent: true, createPartitioner: Partitioners.DefaultPartitioner });
  let dispatchers: ChildProcess[] = [];
  try {
    const tenantIds = Array.from({ length: TENANTS }, () => randomUUID());
    for (const [i, id] of tenantIds.entries()) await db.query('INSERT INTO tenants (id, name) VALUES ($1, $2)', [id, `bench-${i}`]);
    const tenantId = tenantIds[0]!;
    const endpointIds = Array.from({ length: ENDPOINTS }, () => randomUUID());
    const secret = generateWebhookSecret();
    for (const [i, id] of endpointIds.entries()) {
      const endpointTenant = tenantIds[i % TENANTS]!;
      await db.query(
        `INSERT INTO endpoints (id, tenant_id, name, url, events, severities, include_recovery, method, headers, secret,
                                retry_schedule_seconds, timeout_ms, status)
         VALUES ($1, $2, $3, $4, '["*"]', '["P1","P2","P3"]', true, 'POST', '{}', $5, '[0,30,120,600,1800]', 10000, 'active')`,
        [id, endpointTenant, `e-${id.slice(0, 8)}`, `${receiver.url}/${id}`, box.seal(secret, sealedIn.endpointSecret(id))],
      );
    }

    // BENCH_CPU_PROFILE_DIR=<dir> writes each dispatcher's CPU profile there (node --cpu-prof).
    const profile = process.env.BENCH_CPU_PROFILE_DIR ? ['--cpu-prof', '--cpu-prof-dir', process.env.BENCH_CPU_PROFILE_DIR] : [];
    for (let r = 0; r < REPLICAS; r++) {
      const port = await freePort();
      dispatchers.push(
        spawn(process.execPath, [...profile, ...appMainArgs('dispatcher')], {
          env: {
            ...process.env,
            DATABASE_URL: database.url,
            KAFKA_BROKERS: brokers.join(','),
            TOCSIN_TOPIC_NAMESPACE: namespace,
            TOCSIN_ENCRYPTION_KEY: encryptionKey,
            TOCSIN_ALLOW_PRIVATE_URLS: 'true',
            TOCSIN_MIGRATE_ON_BOOT: 'false',
            TOCSIN_DISPATCH_CONCURRENCY: String(CONCURRENCY),
            PORT: String(port),
            HOST: '127.0.0.1',
            LOG_LEVEL: 'error',
          },
          stdio: ['ignore', 'ignore', 'inherit'],
        }),
      );
      await waitFor(async () => (await fetch(`http://127.0.0.1:${port}/health/ready`)).ok, { timeoutMs: 120_000, description: 'dispatcher ready' });
    }

    // Our figure: alerts produced → every delivery recorded delivered.
    await producer.connect();
    const total = ENDPOINTS * ALERTS;
    // Every tenant gets ALERTS alerts, each to all of its endpoints: ENDPOINTS × ALERTS webhooks in all.
    const alerts: AlertEvent[] = Array.from({ length: ALERTS * TENANTS }, (_, n) => {
      const i = Math.floor(n / TENANTS);
      const tenantId = tenantIds[n % TENANTS]!;
      const monitorId = randomUUID();
      const now = new Date().toISOString();
      return {
        event_id: randomUUID(), event: 'downtime_started', tenant_id: tenantId, monitor_id: monitorId,
        dedup_key: `${tenantId}:${monitorId}:1`, server_slug: `m-${i}`, server_url: 'https://example.com/mcp',
        failure_layer: 'transport', severity: 'P1', started_at: now, probe_count: 3, last_error: 'ECONNREFUSED',
        sequence: 1, occurred_at: now,
      };
    });
    const started = performance.now();
    await producer.send({
      topic: topicNames(namespace).alerts,
      messages: alerts.map((a) => ({
        key: `${a.tenant_id}:${a.monitor_id}`,
        value: JSON.stringify(a),
        headers: { [HEADERS.tenantId]: a.tenant_id, [HEADERS.schema]: ALERT_EVENT_SCHEMA },
      })),
    });
    // Polled cheaply, so the benchmark does not load the database it measures: first the
    // receiver's own count, then the open rows through the queue's partial indexes.
    await waitFor(async () => Number(await (await fetch(receiver.url)).text()) >= total, {
      timeoutMs: 900_000,
      intervalMs: 20,
      description: `${total} webhooks received`,
    });
    await waitFor(
      async () =>
        !(await db.query("SELECT EXISTS (SELECT 1 FROM deliveries WHERE status IN ('pending', 'retrying', 'in_flight')) AS open")).rows[0].open,
      { timeoutMs: 900_000, intervalMs: 10, description: 'every delivery recorded' },
    );
    const ours = (performance.now() - started) / 1000;
    const delivered = Number((await db.query("SELECT count(*) AS n FROM deliveries WHERE status = 'delivered'")).rows[0].n);
    if (delivered !== total) throw new Error(`${delivered} of ${total} deliveries recorded delivered`);
    const [{ events }] = (await db.query("SELECT count(*)::int AS events FROM events WHERE stream_id LIKE 'delivery-%'")).rows;

    // The bare figure: undici POSTing the same bodies, as many at once, to the same receiver.
    const agent = new Agent({ keepAliveTimeout: 30_000, connections: CONCURRENCY });
    const body = JSON.stringify({ ...alerts[0], dashboard_url: 'http://127.0.0.1:8080/x', delivered_at: new Date().toISOString() });
    let next = 0;
    const bareStarted = performance.now();
    await Promise.all(
      Array.from({ length: Math.min(CONCURRENCY, total) }, async () => {
        while (next < total) {
          const i = next++;
          const headers = signWebhook({ webhookId: randomUUID(), timestamp: new Date(), body, secrets: [secret] });
          const res = await request(`${receiver.url}/${endpointIds[i % ENDPOINTS]}`, {
            method: 'POST',
            dispatcher: agent,
            body,
            headers: { 'content-type': 'application/json', ...headers },
          });
          await res.body.text();
        }
      }),
    );
    const bare = (performance.now() - bareStarted) / 1000;
    await agent.close();
    await Promise.all(
      dispatchers.map(async (child) => {
        child.kill('SIGTERM');
        if (child.exitCode === null) await new Promise((resolve) => child.once('exit', resolve));
      }),
    );
    dispatchers = [];

    // The claim, on 1,000 due deliveries over the same endpoints: first with only this
    // run's history in the table, then with HISTORY more delivered rows.
    await db.query(
      `INSERT INTO deliveries (id, tenant_id, endpoint_id, alert_event_id, event_type, dedup_key, sequence, body, status,
                               next_attempt_at, stream_version)
       SELECT gen_random_uuid(), $1, ($2::uuid[])[1 + (g % $3)], gen_random_uuid(), 'downtime_started', 'due-' || g, 1,
              '{}'::jsonb, 'pending', now() - interval '1 second', 1
       FROM generate_series(1, 1000) AS g`,
      [tenantId, endpointIds, ENDPOINTS],
    );
    await db.query('VACUUM ANALYZE deliveries');
    const ds = new DataSource(dataSourceOptions(database.url, 2));
    await ds.initialize();
    const repo = new DeliveryRepository();
    const timeClaims = async () => {
      const times: number[] = [];
      let n = 0;
      for (let i = 0; i < 21; i++) {
        const runner = ds.createQueryRunner();
        await runner.startTransaction();
        const t0 = performance.now();
        n = (await repo.claimDue(runner.manager, 100, 4, 100)).length;
        times.push(performance.now() - t0);
        await runner.rollbackTransaction();
        await runner.release();
      }
      return { times, n };
    };
    const small = await timeClaims();
    const [{ n: smallRows }] = (await db.query('SELECT count(*)::int AS n FROM deliveries')).rows;

    const historyStarted = performance.now();
    await db.query(
      `INSERT INTO deliveries (id, tenant_id, endpoint_id, alert_event_id, event_type, dedup_key, sequence, body, status,
                               attempts, stream_version, created_at, updated_at)
       SELECT gen_random_uuid(), $1, ($2::uuid[])[1 + (g % $3)], gen_random_uuid(), 'downtime_started', 'hist-' || g, 1,
              '{}'::jsonb, 'delivered', 1, 3, now() - interval '1 day', now() - interval '1 day'
       FROM generate_series(1, $4) AS g`,
      [tenantId, endpointIds, ENDPOINTS, HISTORY],
    );
    await db.query('VACUUM ANALYZE deliveries');
    const loadSeconds = (performance.now() - historyStarted) / 1000;
    const [{ rows }] = [await db.query('SELECT count(*)::int AS n FROM deliveries')];
    const large = await timeClaims();
    const claimMs = large.times;
    const claimed = large.n;
    const bareMs: number[] = [];
    for (let i = 0; i < 21; i++) {
      await db.query('BEGIN');
      const t0 = performance.now();
      await db.query(
        `SELECT id FROM deliveries WHERE status IN ('pending', 'retrying') AND next_attempt_at <= now()
         ORDER BY endpoint_id, next_attempt_at LIMIT 100 FOR UPDATE SKIP LOCKED`,
      );
      bareMs.push(performance.now() - t0);
      await db.query('ROLLBACK');
    }
    let plan = '';
    if (values.explain) {
      const runner = ds.createQueryRunner();
      await runner.startTransaction();
      await runner.query("SET LOCAL plan_cache_mode = 'force_custom_plan'");
      const original = runner.manager.query.bind(runner.manager);
      let explained: Array<{ 'QUERY PLAN': string }> = [];
      runner.manager.query = (async (sql: string, params?: unknown[]) => {
        explained = await original(`EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) ${sql}`, params);
        return [[], 0];
      }) as typeof runner.manager.query;
      await repo.claimDue(runner.manager, 100, 4, 100);
      plan = explained.map((r) => r['QUERY PLAN']).join('\n');
      await runner.rollbackTransaction();
      await runner.release();
    }
    await ds.destroy();

    const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
    process.stdout.write(
      [
        `machine: ${os.cpus().length} cores (${cpu}), ${Math.round(os.totalmem() / 2 ** 30)} GiB, node ${process.version}, load ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`,
        `endpoints: ${ENDPOINTS} over ${TENANTS} tenants, alerts: ${ALERTS} per tenant, webhooks: ${total}, dispatch concurrency: ${CONCURRENCY}, dispatcher processes: ${REPLICAS}`,
        `dispatcher: ${Math.round(total / ours)} deliveries/s (${total} in ${ours.toFixed(2)} s, ${events} delivery events in the log)`,
        `bare undici client: ${Math.round(total / bare)} requests/s (${total} in ${bare.toFixed(2)} s, same bodies, same receiver)`,
        `dispatcher / bare: ${((bare / ours) * 100).toFixed(1)} %`,
        `delivered history: ${rows[0].n} rows in deliveries (loaded in ${loadSeconds.toFixed(1)} s)`,
        `claim of ${small.n} due deliveries, ${smallRows} rows in the table: median ${median(small.times).toFixed(1)} ms, max ${Math.max(...small.times).toFixed(1)} ms`,
        `claim of ${claimed} due deliveries with ${HISTORY} more delivered rows: median ${median(claimMs).toFixed(1)} ms, max ${Math.max(...claimMs).toFixed(1)} ms`,
        `bare Postgres SKIP LOCKED pop of 100 rows, same table: median ${median(bareMs).toFixed(1)} ms`,
        ...(plan ? ['', plan] : []),
      ].join('\n') + '\n',
    );
  } finally {
    for (const child of dispatchers) child.kill('SIGTERM');
    await producer.disconnect().catch(() => undefined);
    await db.end();
    receiver.child.kill('SIGTERM');
    await database.drop();
  }
}

main().catch((err: Error) => {
  process.stderr.write(`${err.stack ?? err.message}\n`);
  process.exit(1);
});
