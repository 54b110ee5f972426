/**
 * End-to-end benchmark: the built severity-router, dispatcher and api run as processes
 * against real Kafka and Postgres. Phase 1 pushes healthy results for N monitors and
 * measures router throughput (results/s until its committed offsets reach the end).
 * Phase 2 fails every monitor 3 times and measures the latency from producing the
 * confirming probe to receiving its downtime_started webhook, for all at once and then
 * for incidents one at a time.
 *
 *   npm run bench:e2e -- --monitors 200 --results 50
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Kafka, logLevel, Partitioners } from 'kafkajs';
import { HEADERS, topicNames, type ProbeResult } from '@tocsin/contracts';
import { createTestDatabase, waitFor, WebhookReceiver } from '@tocsin/testing';

const ROOT = path.resolve(__dirname, '../..');
const ADMIN = `bench-admin-${randomBytes(8).toString('hex')}`;

const { values } = parseArgs({
  options: {
    monitors: { type: 'string', default: '200' },
    results: { type: 'string', default: '50' },
    partitions: { type: 'string', default: '6' },
  },
});
const MONITORS = Number(values.monitors);
const RESULTS_PER_MONITOR = Number(values.results);

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

async function call<T>(method: string, url: string, token: string, body?: unknown): Promise<T> {
  const res = await fetch(url, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  if (!res.ok) throw new Error(`${method} ${url} → ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

function startApp(name: string, port: number, env: NodeJS.ProcessEnv): ChildProcess {
  const child = spawn(process.execPath, [path.join(ROOT, 'apps', name, 'dist', 'main.js')], {
    env: { ...env, PORT: String(port) },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  child.once('exit', (code) => {
    if (code !== 0 && code !== null) process.stderr.write(`${name} exited with ${code}\n`);
  });
  return child;
}

async function main(): Promise<void> {
  const brokers = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
  const database = await createTestDatabase();
  const namespace = `bench-${randomBytes(4).toString('hex')}.`;
  const topics = topicNames(namespace);
  const receiver = await WebhookReceiver.start();
  const env = {
    ...process.env,
    DATABASE_URL: database.url,
    KAFKA_BROKERS: brokers.join(','),
    TOCSIN_TOPIC_NAMESPACE: namespace,
    TOCSIN_TOPIC_PARTITIONS: values.partitions,
    TOCSIN_ADMIN_TOKEN: ADMIN,
    TOCSIN_ALLOW_PRIVATE_URLS: 'true',
    TOCSIN_MIGRATE_ON_BOOT: 'false',
    TOCSIN_DISPATCH_CONCURRENCY: '64',
    LOG_LEVEL: 'error',
  };
  const ports = { api: 18080, 'severity-router': 18082, dispatcher: 18083 };
  const children = Object.entries(ports).map(([name, port]) => startApp(name, port, env));
  const kafka = new Kafka({ clientId: 'bench', brokers, logLevel: logLevel.NOTHING });
  const producer = kafka.producer({ idempotent: true, createPartitioner: Partitioners.DefaultPartitioner });
  const admin = kafka.admin();
  try {
    for (const port of Object.values(ports)) {
      await waitFor(async () => (await fetch(`http://127.0.0.1:${port}/health/ready`)).ok, { timeoutMs: 60_000, description: `app on :${port}` });
    }
    const api = `http://127.0.0.1:${ports.api}/v1`;
    const tenant = await call<{ id: string }>('POST', `${api}/tenants`, ADMIN, { name: 'bench' });
    const { key } = await call<{ key: string }>('POST', `${api}/tenants/${tenant.id}/api-keys`, ADMIN, {});
    await call('POST', `${api}/endpoints`, key, { name: 'bench', url: receiver.url, include_recovery: false });
    const monitorIds: string[] = [];
    for (let i = 0; i < MONITORS; i++) {
      const m = await call<{ id: string }>('POST', `${api}/monitors`, key, { slug: `m-${i}`, name: `m-${i}`, url: 'https://example.com/mcp' });
      monitorIds.push(m.id);
    }
    await producer.connect();
    await admin.connect();
    let clock = Date.now() - 10 * 24 * 3600 * 1000;
    const result = (monitorId: string, ok: boolean): ProbeResult => ({
      event_id: randomUUID(),
      tenant_id: tenant.id,
      monitor_id: monitorId,
      observed_at: new Date((clock += 1)).toISOString(),
      ok,
      source: 'kafka',
      ...(ok ? { latency_ms: 5 } : { failure_layer: 'transport', error: 'ECONNREFUSED' }),
    });
    const send = (results: ProbeResult[]) =>
      producer.send({
        topic: topics.probeResults,
        messages: results.map((r) => ({ key: `${r.tenant_id}:${r.monitor_id}`, value: JSON.stringify(r), headers: { [HEADERS.tenantId]: r.tenant_id } })),
      });
    const routerCaughtUp = async () => {
      const end = await admin.fetchTopicOffsets(topics.probeResults);
      const [group] = await admin.fetchOffsets({ groupId: `${namespace}tocsin.severity-router`, topics: [topics.probeResults] });
      const committed = new Map(group!.partitions.map((p) => [p.partition, Number(p.offset)]));
      return end.every((p) => (committed.get(p.partition) ?? -1) >= Number(p.high));
    };

    // Phase 1: throughput of healthy results through the router.
    const total = MONITORS * RESULTS_PER_MONITOR;
    const started = performance.now();
    for (let round = 0; round < RESULTS_PER_MONITOR; round++) await send(monitorIds.map((id) => result(id, true)));
    const produced = performance.now();
    await waitFor(routerCaughtUp, { timeoutMs: 600_000, intervalMs: 100, description: 'router caught up' });
    const elapsed = (performance.now() - started) / 1000;

    // Phase 2: confirming probe → webhook latency, one incident per monitor.
    await send(monitorIds.map((id) => result(id, false)));
    await send(monitorIds.map((id) => result(id, false)));
    await waitFor(routerCaughtUp, { timeoutMs: 600_000, intervalMs: 100, description: 'router caught up' });
    const sentAt = Date.now();
    await send(monitorIds.map((id) => result(id, false)));
    const arrivals = await receiver.waitForEvent('downtime_started', MONITORS, { timeoutMs: 600_000, intervalMs: 20 });
    const latencies = arrivals.map((a) => a.receivedAt.getTime() - sentAt).sort((a, b) => a - b);

    // Phase 3: the same latency one incident at a time (an unloaded pipeline).
    const single: number[] = [];
    for (const id of monitorIds.slice(0, Math.min(20, MONITORS))) {
      await send([result(id, true), result(id, false), result(id, false)]);
      await waitFor(routerCaughtUp, { timeoutMs: 60_000, intervalMs: 20, description: 'router caught up' });
      const before = receiver.ofEvent('downtime_started').length;
      const t0 = Date.now();
      await send([result(id, false)]);
      const [arrival] = (await receiver.waitForEvent('downtime_started', before + 1, { intervalMs: 5 })).slice(-1);
      single.push(arrival!.receivedAt.getTime() - t0);
    }
    single.sort((a, b) => a - b);

    const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
    process.stdout.write(
      [
        `machine: ${os.cpus().length} cores (${cpu}), ${Math.round(os.totalmem() / 2 ** 30)} GiB, node ${process.version}`,
        `monitors: ${MONITORS}, healthy results: ${total}, partitions: ${values.partitions}`,
        `router throughput: ${Math.round(total / elapsed)} results/s (${total} in ${elapsed.toFixed(2)} s; produce took ${((produced - started) / 1000).toFixed(2)} s)`,
        `confirming probe → webhook (${latencies.length} incidents, sent as one batch): p50 ${percentile(latencies, 50)} ms, p95 ${percentile(latencies, 95)} ms, p99 ${percentile(latencies, 99)} ms, max ${latencies.at(-1)} ms`,
        `confirming probe → webhook (${single.length} incidents, one at a time): p50 ${percentile(single, 50)} ms, p95 ${percentile(single, 95)} ms, p99 ${percentile(single, 99)} ms`,
        `webhooks received: ${receiver.received.length} (expected ${MONITORS + single.length})`,
      ].join('\n') + '\n',
    );
  } finally {
    await producer.disconnect().catch(() => undefined);
    await admin.disconnect().catch(() => undefined);
    for (const child of children) child.kill('SIGTERM');
    await Promise.all(children.map((c) => new Promise((resolve) => (c.exitCode !== null ? resolve(null) : c.once('exit', resolve)))));
    await receiver.close();
    await database.drop();
  }
}

main().catch((err: Error) => {
  process.stderr.write(`${err.stack ?? err.message}\n`);
  process.exit(1);
});
