/**
 * Router benchmark: N monitors' probe results (90 % healthy by default) are produced to a
 * fresh topic first; then a bare kafkajs consumer reads them all, and then the built
 * severity-router (a separate process) applies them. Both are timed from the first record
 * handled to the last, on the same broker in the same run. The router's peak RSS is read
 * from /proc (VmHWM) at the end. The router starts with the node flags it declares (its
 * heap bound), as `npm start` and the manifests start it.
 *
 *   npm run bench:router -- --monitors 10000 --results 10
 */
import { spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { Kafka, logLevel, Partitioners } from 'kafkajs';
import { Client } from 'pg';
import { HEADERS, topicNames, type ProbeResult } from '@tocsin/contracts';
import { appMainArgs, createTestDatabase, waitFor } from '@tocsin/testing';
import { fmt, insertMonitors } from './harness';

const { values } = parseArgs({
  options: {
    monitors: { type: 'string', default: '10000' },
    results: { type: 'string', default: '10' },
    healthy: { type: 'string', default: '0.9' },
    partitions: { type: 'string', default: '6' },
    concurrency: { type: 'string', default: '3' },
  },
});
const MONITORS = Number(values.monitors);
const PER_MONITOR = Number(values.results);
const HEALTHY = Number(values.healthy);


function peakRssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? NaN);
  return kb / 1024;
}

async function main(): Promise<void> {
  const brokers = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
  const database = await createTestDatabase();
  const namespace = `bench-${randomBytes(4).toString('hex')}.`;
  const topics = topicNames(namespace);
  const kafka = new Kafka({ clientId: 'bench-router', brokers, logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  const producer = kafka.producer({ idempotent: true, createPartitioner: Partitioners.DefaultPartitioner });
  const db = new Client({ connectionString: database.url });
  await Promise.all([admin.connect(), producer.connect(), db.connect()]);
  let router: ReturnType<typeof spawn> | undefined;
  try {
    const tenantId = randomUUID();
    await db.query('INSERT INTO tenants (id, name) VALUES ($1, $2)', [tenantId, 'bench']);
    const monitorIds = Array.from({ length: MONITORS }, () => randomUUID());
    await insertMonitors(db, tenantId, monitorIds);
    await admin.createTopics({
      topics: [topics.probeResults, topics.alerts, topics.probeResultsDlq].map((topic) => ({ topic, numPartitions: Number(values.partitions) })),
    });

    const total = MONITORS * PER_MONITOR;
    const start = Date.now() - 24 * 3600 * 1000;
    let failures = 0;
    for (let round = 0; round < PER_MONITOR; round++) {
      for (let i = 0; i < MONITORS; i += 5_000) {
        const messages = monitorIds.slice(i, i + 5_000).map((monitorId, n) => {
          const ok = ((round * MONITORS + i + n) * 2654435761) % 1000 < HEALTHY * 1000;
          if (!ok) failures++;
          const r: ProbeResult = {
            event_id: randomUUID(),
            tenant_id: tenantId,
            monitor_id: monitorId,
            observed_at: new Date(start + round * 60_000).toISOString(),
            ok,
            source: 'kafka',
            ...(ok ? { latency_ms: 12 } : { failure_layer: 'http', http_status: 502, error: 'HTTP 502' }),
          };
          return { key: `${tenantId}:${monitorId}`, value: JSON.stringify(r), headers: { [HEADERS.tenantId]: tenantId } };
        });
        await producer.send({ topic: topics.probeResults, messages });
      }
    }

    // The bare consumer: kafkajs alone, same records, same broker.
    const bare = kafka.consumer({ groupId: `${namespace}bare`, maxWaitTimeInMs: 100 });
    await bare.connect();
    await bare.subscribe({ topic: topics.probeResults, fromBeginning: true });
    let bareCount = 0;
    let bareFirst = 0;
    let bareLast = 0;
    await bare.run({
      eachBatch: async ({ batch }) => {
        if (bareFirst === 0) bareFirst = performance.now();
        bareCount += batch.messages.length;
        bareLast = performance.now();
      },
    });
    await waitFor(() => bareCount >= total, { timeoutMs: 300_000, intervalMs: 20, description: 'bare consumer read everything' });
    await bare.disconnect();
    const bareRate = total / ((bareLast - bareFirst) / 1000);

    // BENCH_CPU_PROFILE_DIR=<dir> writes the router's CPU profile there (node --cpu-prof).
    const profile = process.env.BENCH_CPU_PROFILE_DIR ? ['--cpu-prof', '--cpu-prof-dir', process.env.BENCH_CPU_PROFILE_DIR] : [];
    router = spawn(process.execPath, [...profile, ...appMainArgs('severity-router')], {
      env: {
        ...process.env,
        DATABASE_URL: database.url,
        KAFKA_BROKERS: brokers.join(','),
        TOCSIN_TOPIC_NAMESPACE: namespace,
        TOCSIN_TOPIC_PARTITIONS: values.partitions,
        TOCSIN_MIGRATE_ON_BOOT: 'false',
        TOCSIN_ROUTER_CONCURRENCY: values.concurrency,
        PORT: '0',
        HOST: '127.0.0.1',
        LOG_LEVEL: 'error',
      },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    const consumed = async () => Number((await db.query('SELECT coalesce(sum(next_offset), 0) AS n FROM consumer_offsets')).rows[0].n);
    await waitFor(async () => (await consumed()) > 0, { timeoutMs: 120_000, intervalMs: 5, description: 'router started' });
    const routerFirst = performance.now();
    const firstCount = await consumed();
    await waitFor(async () => (await consumed()) >= total, { timeoutMs: 900_000, intervalMs: 20, description: 'router applied everything' });
    const routerRate = (total - firstCount) / ((performance.now() - routerFirst) / 1000);
    const rss = peakRssMb(router.pid!);
    const [rows] = (
      await db.query(
        `SELECT (SELECT count(*) FROM events) AS events, (SELECT count(*) FROM monitor_state) AS snapshots,
                (SELECT count(*) FROM processed_messages) AS processed, (SELECT count(*) FROM outbox) AS outbox`,
      )
    ).rows;

    process.stdout.write(
      [
        `machine: ${os.cpus().length} cores (${os.cpus()[0]?.model ?? 'unknown CPU'}), ${Math.round(os.totalmem() / 2 ** 30)} GiB, node ${process.version}`,
        `monitors: ${fmt(MONITORS)}, results: ${fmt(total)} (${fmt(total - failures)} healthy), partitions: ${values.partitions}, router concurrency: ${values.concurrency}`,
        `router: ${fmt(routerRate)} results/s`,
        `bare kafkajs consumer: ${fmt(bareRate)} records/s`,
        `router peak RSS: ${rss.toFixed(0)} MB`,
        `rows after the run: events ${rows.events}, monitor_state ${rows.snapshots}, processed_messages ${rows.processed}, outbox ${rows.outbox}`,
      ].join('\n') + '\n',
    );
  } finally {
    if (router && router.exitCode === null) {
      router.kill('SIGTERM');
      await new Promise((resolve) => router!.once('exit', resolve));
    }
    await producer.disconnect().catch(() => undefined);
    await admin.disconnect().catch(() => undefined);
    await db.end().catch(() => undefined);
    await database.drop();
  }
}

main().catch((err: Error) => {
  process.stderr.write(`${err.stack ?? err.message}\n`);
  process.exit(1);
});
