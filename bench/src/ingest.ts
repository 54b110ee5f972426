/**
 * Ingest benchmark, two paths into tocsin.probe-results.v1, each beside the bare figure of
 * what it is built on, measured in the same run against the same broker:
 *
 * (a) push: POST /v1/probe-results (the built api as a process) → results/s acknowledged by
 *     Kafka, beside a bare kafkajs producer (one request in flight, as Tocsin's) sending the same records;
 * (b) active probes: one built probe-ingest process probing local MCP servers of both
 *     generations (official SDKs) as fast as its concurrency allows → probes/s published,
 *     beside bare probeMcpServer calls (no scheduler, leases or Kafka) at the same
 *     concurrency; and what that means in replicas for 1,000,000 monitors every 60 s.
 *
 *   npm run bench:ingest -- --results 20000 --batch 500 --monitors 1000 --seconds 20
 */
import type { ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { Kafka, logLevel, type Consumer } from 'kafkajs';
import { Client } from 'pg';
import { HEADERS, monitorKey, PROBE_RESULT_SCHEMA, topicNames, type ProbeResult } from '@tocsin/contracts';
import { probeMcpServer } from '@tocsin/mcp-probe';
import { createTestDatabase, startMcpServer, startStatelessMcpServer, waitFor } from '@tocsin/testing';
import { appEnv, call, fmt, freePort, startApp } from './harness';

const ADMIN = `bench-admin-${randomBytes(8).toString('hex')}`;

const { values } = parseArgs({
  options: {
    results: { type: 'string', default: '20000' },
    batch: { type: 'string', default: '500' },
    concurrency: { type: 'string', default: '4' },
    monitors: { type: 'string', default: '1000' },
    'probe-concurrency': { type: 'string', default: '128' },
    seconds: { type: 'string', default: '20' },
    partitions: { type: 'string', default: '6' },
  },
});
const RESULTS = Number(values.results);
const BATCH = Number(values.batch);
const PUSH_CONCURRENCY = Number(values.concurrency);
const MONITORS = Number(values.monitors);
const PROBE_CONCURRENCY = Number(values['probe-concurrency']);
const SECONDS = Number(values.seconds);

const line = (text: string) => process.stdout.write(`${text}\n`);

/** Runs `task` over `items` with at most `limit` at once. */
async function pool<T>(items: readonly T[], limit: number, task: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await task(items[next++]!);
  };
  await Promise.all(Array.from({ length: limit }, worker));
}

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** The topic's total end offset; retried while a new topic's leaders are still being elected. */
function topicEnd(kafka: Kafka, topic: string): Promise<number> {
  return waitFor(() => readTopicEnd(kafka, topic).catch(() => false as const), { timeoutMs: 30_000, description: 'topic offsets' });
}

async function readTopicEnd(kafka: Kafka, topic: string): Promise<number> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    return (await admin.fetchTopicOffsets(topic)).reduce((sum, p) => sum + Number(p.high), 0);
  } finally {
    await admin.disconnect();
  }
}

async function main(): Promise<void> {
  const brokers = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
  const database = await createTestDatabase();
  const namespace = `bench-${randomBytes(4).toString('hex')}.`;
  const topics = topicNames(namespace);
  const kafka = new Kafka({ clientId: 'bench-ingest', brokers, logLevel: logLevel.NOTHING });
  const env: NodeJS.ProcessEnv = {
    ...appEnv({ databaseUrl: database.url, brokers, namespace, partitions: values.partitions, adminToken: ADMIN }),
    TOCSIN_MIN_INTERVAL_SECONDS: '1',
    // The bench measures how fast pushes are taken, not one tenant's push quota.
    TOCSIN_QUOTA_PUSHED_RESULTS_PER_SECOND: '0',
    HOST: '127.0.0.1',
  };
  const children: ChildProcess[] = [];
  const servers = await Promise.all([startMcpServer(), startMcpServer(), startStatelessMcpServer(), startStatelessMcpServer()]);
  try {
    const apiPort = await freePort();
    children.push(startApp('api', { ...env, PORT: String(apiPort) }));
    await waitFor(async () => (await fetch(`http://127.0.0.1:${apiPort}/health/ready`)).ok, { timeoutMs: 90_000, description: 'api ready' });
    const api = `http://127.0.0.1:${apiPort}/v1`;
    const tenant = await call<{ id: string }>('POST', `${api}/tenants`, ADMIN, { name: 'bench' });
    const { key } = await call<{ key: string }>('POST', `${api}/tenants/${tenant.id}/api-keys`, ADMIN, {});
    const pushTargets: string[] = [];
    for (let i = 0; i < 100; i++) {
      const m = await call<{ id: string }>('POST', `${api}/monitors`, key, { slug: `push-${i}`, name: `push ${i}`, url: 'https://example.com/mcp' });
      pushTargets.push(m.id);
    }

    // (a) the same records, bare producer first, then through the push API.
    const records: ProbeResult[] = Array.from({ length: RESULTS }, (_, i) => ({
      event_id: randomUUID(),
      tenant_id: tenant.id,
      monitor_id: pushTargets[i % pushTargets.length]!,
      observed_at: new Date().toISOString(),
      ok: true,
      latency_ms: 12,
      source: 'push',
    }));
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: topics.probeResults, numPartitions: Number(values.partitions) }], waitForLeaders: true });
    await admin.disconnect();
    const producer = kafka.producer({ idempotent: false, maxInFlightRequests: 1 });
    await producer.connect();
    const before = await topicEnd(kafka, topics.probeResults);
    let t0 = performance.now();
    await pool(chunks(records, BATCH), 1, async (batch) => {
      await producer.send({
        topic: topics.probeResults,
        acks: -1,
        messages: batch.map((r) => ({
          key: monitorKey(r.tenant_id, r.monitor_id),
          value: JSON.stringify(r),
          headers: { [HEADERS.contentType]: 'application/json', [HEADERS.schema]: PROBE_RESULT_SCHEMA, [HEADERS.tenantId]: r.tenant_id },
        })),
      });
    });
    const bareRate = RESULTS / ((performance.now() - t0) / 1000);
    await producer.disconnect();
    const afterBare = await topicEnd(kafka, topics.probeResults);

    t0 = performance.now();
    await pool(chunks(records, BATCH), PUSH_CONCURRENCY, async (batch) => {
      await call('POST', `${api}/probe-results`, key, {
        results: batch.map((r) => ({ monitor_id: r.monitor_id, ok: r.ok, observed_at: r.observed_at, latency_ms: r.latency_ms })),
      });
    });
    const pushRate = RESULTS / ((performance.now() - t0) / 1000);
    const afterPush = await topicEnd(kafka, topics.probeResults);

    // (b) one probe-ingest replica over monitors of both generations, every 1 s (more than it can do).
    const db = new Client({ connectionString: database.url });
    await db.connect();
    const urls = servers.map((s) => s.url);
    await db.query(
      `INSERT INTO monitors (id, tenant_id, slug, name, url, kind, interval_seconds, timeout_ms, confirm_after, recover_after)
       SELECT gen_random_uuid(), $1, 'probe-' || i, 'probe ' || i, ($2::text[])[1 + i % 4], 'mcp', 1, 5000, 3, 1
       FROM generate_series(0, $3 - 1) AS i`,
      [tenant.id, urls, MONITORS],
    );
    await db.end();
    const consumer: Consumer = kafka.consumer({ groupId: `bench-${randomBytes(4).toString('hex')}` });
    const observed: Array<{ at: number; ok: boolean }> = [];
    await consumer.connect();
    await consumer.subscribe({ topic: topics.probeResults, fromBeginning: false });
    await consumer.run({
      eachMessage: async ({ message }) => {
        const r = JSON.parse(message.value!.toString()) as ProbeResult;
        if (r.source === 'active') observed.push({ at: Date.parse(r.observed_at), ok: r.ok });
      },
    });
    children.push(
      startApp('probe-ingest', {
        ...env,
        PORT: String(await freePort()),
        TOCSIN_PROBE_CONCURRENCY: String(PROBE_CONCURRENCY),
        TOCSIN_MONITOR_REFRESH_MS: '1000',
      }),
    );
    await waitFor(() => observed.length >= MONITORS, { timeoutMs: 180_000, description: 'a first round of probes' });
    const windowStart = Date.now();
    const windowEnd = windowStart + SECONDS * 1000;
    await waitFor(() => observed.some((o) => o.at >= windowEnd + 2000), { timeoutMs: SECONDS * 1000 + 60_000, description: 'the window probed' });
    const inWindow = observed.filter((o) => o.at >= windowStart && o.at < windowEnd);
    const activeRate = inWindow.length / SECONDS;
    const failed = inWindow.filter((o) => !o.ok).length;
    await consumer.disconnect();
    for (const child of children.splice(1)) child.kill('SIGTERM');

    // Bare: the prober alone, same servers, same concurrency, same length of time.
    let bareProbes = 0;
    let bareFailed = 0;
    const bareEnd = Date.now() + SECONDS * 1000;
    let next = 0;
    await Promise.all(
      Array.from({ length: PROBE_CONCURRENCY }, async () => {
        while (Date.now() < bareEnd) {
          const url = urls[next++ % urls.length]!;
          const outcome = await probeMcpServer(url, { timeoutMs: 5000, generation: url === urls[2] || url === urls[3] ? 'stateless' : 'handshake' });
          bareProbes++;
          if (!outcome.ok) bareFailed++;
        }
      }),
    );
    const bareProbeRate = bareProbes / SECONDS;
    const needed = 1_000_000 / 60;

    const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
    line(`machine: ${os.cpus().length} cores (${cpu}), ${Math.round(os.totalmem() / 2 ** 30)} GiB, node ${process.version}, load ${os.loadavg()[0]!.toFixed(1)}`);
    line(`records: ${fmt(RESULTS)} in batches of ${BATCH}; push concurrency ${PUSH_CONCURRENCY}; partitions ${values.partitions}`);
    line(`bare kafkajs producer: ${fmt(bareRate)} records/s (landed ${fmt(afterBare - before)})`);
    line(`push api: ${fmt(pushRate)} results/s (landed ${fmt(afterPush - afterBare)}; ${(pushRate / bareRate * 100).toFixed(0)} % of bare)`);
    line(`active probes, one replica (concurrency ${PROBE_CONCURRENCY}, ${MONITORS} monitors, both generations): ${fmt(activeRate)} probes/s (${failed} failed)`);
    line(`bare probeMcpServer (same servers and concurrency): ${fmt(bareProbeRate)} probes/s (${bareFailed} failed)`);
    line(`1 000 000 monitors at 60 s = ${fmt(needed)} probes/s → ${Math.ceil(needed / activeRate)} replicas at this rate`);
  } finally {
    for (const child of children) child.kill('SIGTERM');
    await Promise.all(children.map((c) => new Promise((resolve) => (c.exitCode !== null || c.signalCode !== null ? resolve(null) : c.once('exit', resolve)))));
    await Promise.all(servers.map((s) => s.close()));
    await database.drop();
  }
}

main().catch((err: Error) => {
  process.stderr.write(`${err.stack ?? err.message}\n`);
  process.exit(1);
});
