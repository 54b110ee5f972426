/**
 * Soak: the built api, severity-router and dispatcher run as processes for --minutes while
 * a steady stream of probe results (--rate per second over --monitors monitors) goes in,
 * --flapping of those monitors failing for 4 results (one incident) and recovering once a
 * minute, each incident delivered to --endpoints webhook endpoints. Every minute it prints
 * each app's RSS, the consumer lag of the router and the dispatcher, and the sizes of the
 * tables that must stay bounded (DESIGN §3). After a warm-up it asserts the figures flat:
 * RSS within a bound of its warm-up value, lag never past --max-lag-seconds of input,
 * monitor_state one row per monitor, outbox and processed_messages not growing with time,
 * and no event per healthy result. At the end the lag must drain to zero.
 *
 *   npm run soak -- --minutes 60
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { Kafka, logLevel, Partitioners, type Admin } from 'kafkajs';
import { Client } from 'pg';
import { HEADERS, topicNames, type ProbeResult } from '@tocsin/contracts';
import { createTestDatabase, waitFor } from '@tocsin/testing';
import { appEnv, call, fmt, freePort, insertMonitors, startApp } from './harness';

const ADMIN = `soak-admin-${randomBytes(8).toString('hex')}`;
const { values } = parseArgs({
  options: {
    minutes: { type: 'string', default: '60' },
    rate: { type: 'string', default: '10000' },
    monitors: { type: 'string', default: '10000' },
    flapping: { type: 'string', default: '300' },
    endpoints: { type: 'string', default: '5' },
    'warmup-minutes': { type: 'string', default: '5' },
    'max-lag-seconds': { type: 'string', default: '10' },
    'rss-growth-mb': { type: 'string', default: '64' },
  },
});
const MINUTES = Number(values.minutes);
const RATE = Number(values.rate);
const MONITORS = Number(values.monitors);
const FLAPPING = Math.min(Number(values.flapping), MONITORS);
const ENDPOINTS = Number(values.endpoints);
const WARMUP = Math.min(Number(values['warmup-minutes']), Math.max(0, MINUTES - 1));
const APPS = ['api', 'severity-router', 'dispatcher'] as const;
const TICK_MS = 100;

const rssMb = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN) / 1024;

interface Sample {
  minute: number;
  rss: Record<(typeof APPS)[number], number>;
  routerLag: number;
  dispatcherLag: number;
  tables: { monitor_state: number; outbox: number; processed_messages: number; events: number; deliveries: number };
  alerts: number;
  webhooks: number;
  sent: number;
}

/** Records not yet committed by `groupId` on `topic`: end offsets minus the group's committed offsets. */
async function lag(admin: Admin, groupId: string, topic: string): Promise<number> {
  // Committed first: read the other way round, records produced in between would count as negative lag.
  const [group] = await admin.fetchOffsets({ groupId, topics: [topic] });
  const end = await admin.fetchTopicOffsets(topic);
  const committed = new Map(group!.partitions.map((p) => [p.partition, Math.max(0, Number(p.offset))]));
  return end.reduce((sum, p) => sum + Number(p.high) - (committed.get(p.partition) ?? 0), 0);
}

async function main(): Promise<void> {
  const brokers = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
  const database = await createTestDatabase();
  const namespace = `soak-${randomBytes(4).toString('hex')}.`;
  const topics = topicNames(namespace);
  let webhooks = 0;
  const receiver = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      webhooks++;
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const receiverUrl = `http://127.0.0.1:${(receiver.address() as { port: number }).port}/hook`;
  const env = {
    ...appEnv({ databaseUrl: database.url, brokers, namespace, partitions: '6', adminToken: ADMIN }),
    // Short retention windows, so a bounded table shows its plateau within the run.
    TOCSIN_OUTBOX_RETENTION_SECONDS: '60',
    TOCSIN_DEDUP_RETENTION_SECONDS: '60',
  };
  const ports = Object.fromEntries(await Promise.all(APPS.map(async (name) => [name, await freePort()] as const)));
  const children = Object.fromEntries(APPS.map((name) => [name, startApp(name, { ...env, PORT: String(ports[name]) })]));
  const kafka = new Kafka({ clientId: 'soak', brokers, logLevel: logLevel.NOTHING });
  const producer = kafka.producer({ idempotent: true, createPartitioner: Partitioners.DefaultPartitioner });
  const admin = kafka.admin();
  const db = new Client({ connectionString: database.url });
  await Promise.all([producer.connect(), admin.connect(), db.connect()]);
  const samples: Sample[] = [];
  try {
    for (const port of Object.values(ports)) {
      await waitFor(async () => (await fetch(`http://127.0.0.1:${port}/health/ready`)).ok, { timeoutMs: 120_000, description: `app on :${port}` });
    }
    const api = `http://127.0.0.1:${ports.api}/v1`;
    const tenant = await call<{ id: string }>('POST', `${api}/tenants`, ADMIN, { name: 'soak' });
    const { key } = await call<{ key: string }>('POST', `${api}/tenants/${tenant.id}/api-keys`, ADMIN, {});
    for (let i = 0; i < ENDPOINTS; i++) await call('POST', `${api}/endpoints`, key, { name: `soak-${i}`, url: receiverUrl });
    const monitorIds = Array.from({ length: MONITORS }, () => randomUUID());
    await insertMonitors(db, tenant.id, monitorIds);

    // The load: round-robin over the monitors. A flapping monitor's results fail for 4 of
    // its results each minute (3 confirm an incident, the 5th resolves it).
    const resultsPerMinute = (RATE * 60) / MONITORS;
    const seen = new Array<number>(MONITORS).fill(0);
    let sent = 0;
    let running = true;
    const load = (async () => {
      const perTick = Math.max(1, Math.round((RATE * TICK_MS) / 1000));
      let cursor = 0;
      let next = performance.now();
      while (running) {
        const messages = Array.from({ length: perTick }, () => {
          const i = cursor++ % MONITORS;
          const n = seen[i]!;
          seen[i] = n + 1;
          const ok = i >= FLAPPING || n % Math.max(5, Math.floor(resultsPerMinute)) >= 4;
          const r: ProbeResult = {
            event_id: randomUUID(),
            tenant_id: tenant.id,
            monitor_id: monitorIds[i]!,
            observed_at: new Date().toISOString(),
            ok,
            source: 'kafka',
            ...(ok ? { latency_ms: 12 } : { failure_layer: 'http', http_status: 502, error: 'HTTP 502' }),
          };
          return { key: `${tenant.id}:${r.monitor_id}`, value: JSON.stringify(r), headers: { [HEADERS.tenantId]: tenant.id } };
        });
        await producer.send({ topic: topics.probeResults, messages });
        sent += messages.length;
        next += TICK_MS;
        const wait = next - performance.now();
        if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      }
    })();

    const sample = async (minute: number): Promise<Sample> => {
      const [routerLag, dispatcherLag, tables, alerts] = await Promise.all([
        lag(admin, `${namespace}tocsin.severity-router`, topics.probeResults),
        lag(admin, `${namespace}tocsin.dispatcher`, topics.alerts),
        db.query(
          `SELECT (SELECT count(*) FROM monitor_state)::int AS monitor_state, (SELECT count(*) FROM outbox)::int AS outbox,
                  (SELECT count(*) FROM processed_messages)::int AS processed_messages, (SELECT count(*) FROM events)::int AS events,
                  (SELECT count(*) FROM deliveries)::int AS deliveries`,
        ),
        admin.fetchTopicOffsets(topics.alerts).then((ps) => ps.reduce((s, p) => s + Number(p.high), 0)),
      ]);
      const rss = Object.fromEntries(APPS.map((name) => [name, rssMb(children[name]!.pid!)])) as Sample['rss'];
      return { minute, rss, routerLag, dispatcherLag, tables: tables.rows[0] as Sample['tables'], alerts, webhooks, sent };
    };
    const print = (s: Sample) =>
      process.stdout.write(
        `minute ${String(s.minute).padStart(3)}: sent ${fmt(s.sent)}, ` +
          APPS.map((name) => `${name} RSS ${s.rss[name].toFixed(0)} MB`).join(', ') +
          `, router lag ${fmt(s.routerLag)}, dispatcher lag ${fmt(s.dispatcherLag)}, alerts ${fmt(s.alerts)}, webhooks ${fmt(s.webhooks)}, ` +
          Object.entries(s.tables).map(([t, n]) => `${t} ${fmt(n)}`).join(', ') + '\n',
      );

    const started = performance.now();
    for (let minute = 1; minute <= MINUTES; minute++) {
      await new Promise((resolve) => setTimeout(resolve, started + minute * 60_000 - performance.now()));
      const s = await sample(minute);
      samples.push(s);
      print(s);
    }
    running = false;
    await load;
    const drainStarted = performance.now();
    await waitFor(async () => (await lag(admin, `${namespace}tocsin.severity-router`, topics.probeResults)) === 0 && (await lag(admin, `${namespace}tocsin.dispatcher`, topics.alerts)) === 0, {
      timeoutMs: 120_000,
      intervalMs: 200,
      description: 'router and dispatcher lag back to zero after the load',
    });
    const drained = (performance.now() - drainStarted) / 1000;
    const last = await sample(MINUTES);

    const failures = judge(samples, last);
    const warm = samples[WARMUP - 1] ?? samples[0]!;
    process.stdout.write(
      [
        `machine: ${os.cpus().length} cores (${os.cpus()[0]?.model ?? 'unknown CPU'}), ${Math.round(os.totalmem() / 2 ** 30)} GiB, node ${process.version}`,
        `soak: ${MINUTES} min, ${fmt(RATE)} results/s over ${fmt(MONITORS)} monitors (${FLAPPING} flapping once a minute), ${ENDPOINTS} endpoints`,
        `results sent: ${fmt(last.sent)} (${fmt(last.sent / (MINUTES * 60))} results/s)`,
        ...APPS.map((name) => `${name} RSS: ${warm.rss[name].toFixed(0)} MB after warm-up, max ${Math.max(...samples.slice(WARMUP).map((s) => s.rss[name])).toFixed(0)} MB after it`),
        `router lag: max ${fmt(Math.max(...samples.slice(WARMUP).map((s) => s.routerLag)))} records after warm-up; dispatcher lag: max ${fmt(Math.max(...samples.slice(WARMUP).map((s) => s.dispatcherLag)))}`,
        `lag back to zero ${drained.toFixed(1)} s after the load stopped`,
        `alerts: ${fmt(last.alerts)}, webhooks received: ${fmt(last.webhooks)}, events: ${fmt(last.tables.events)}, deliveries: ${fmt(last.tables.deliveries)}`,
        failures.length === 0 ? 'soak: flat' : `soak: NOT flat\n  ${failures.join('\n  ')}`,
      ].join('\n') + '\n',
    );
    if (failures.length > 0) process.exitCode = 1;
  } finally {
    await producer.disconnect().catch(() => undefined);
    await admin.disconnect().catch(() => undefined);
    await db.end().catch(() => undefined);
    const all = Object.values(children);
    for (const child of all) child.kill('SIGTERM');
    await Promise.all(all.map((c) => new Promise((resolve) => (c.exitCode !== null ? resolve(null) : c.once('exit', resolve)))));
    receiver.close();
    await database.drop();
  }
}

/** What makes the run not flat, one sentence each; none when it is. */
function judge(samples: readonly Sample[], last: Sample): string[] {
  const failures: string[] = [];
  const warm = samples[WARMUP - 1] ?? samples[0]!;
  const after = samples.slice(WARMUP);
  const growth = Number(values['rss-growth-mb']);
  for (const name of APPS) {
    const max = Math.max(...after.map((s) => s.rss[name]));
    if (max > warm.rss[name] * 1.25 + growth) failures.push(`${name} RSS grew from ${warm.rss[name].toFixed(0)} MB to ${max.toFixed(0)} MB`);
  }
  const maxLag = RATE * Number(values['max-lag-seconds']);
  for (const s of after) {
    if (s.routerLag > maxLag) failures.push(`minute ${s.minute}: router lag ${s.routerLag} > ${maxLag}`);
    if (s.dispatcherLag > maxLag) failures.push(`minute ${s.minute}: dispatcher lag ${s.dispatcherLag} > ${maxLag}`);
  }
  if (last.tables.monitor_state > MONITORS) failures.push(`monitor_state has ${last.tables.monitor_state} rows for ${MONITORS} monitors`);
  for (const table of ['outbox', 'processed_messages'] as const) {
    const bound = Math.max(...samples.slice(0, Math.max(WARMUP, 2)).map((s) => s.tables[table])) * 1.5 + 1_000;
    const max = Math.max(...after.map((s) => s.tables[table]));
    if (max > bound) failures.push(`${table} grew to ${max} rows (bound ${Math.round(bound)} from the warm-up)`);
  }
  // Events come from incidents and deliveries only: 2 per incident on the monitor stream,
  // a handful per delivery. Anything near one per healthy result is a leak of rows.
  const perAlert = 2 + ENDPOINTS * 6;
  if (last.tables.events > last.alerts * perAlert + 1_000) failures.push(`events ${last.tables.events} for ${last.alerts} alerts: more than real events`);
  if (last.webhooks < last.tables.deliveries) failures.push(`only ${last.webhooks} webhooks arrived for ${last.tables.deliveries} deliveries`);
  return failures;
}

main().catch((err: Error) => {
  process.stderr.write(`${err.stack ?? err.message}\n`);
  process.exit(1);
});
