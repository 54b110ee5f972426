import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { Kafka, logLevel, Partitioners } from 'kafkajs';
import { Client } from 'pg';
import { HEADERS, monitorKey, type ProbeResult } from '@tocsin/contracts';
import { appMainArgs, waitFor } from '@tocsin/testing';

/** Ids fixed across runs, so two databases fed the same records can be compared row for row. */
export const FIXED_TENANT = '0b1d7e5c-0000-4000-8000-000000000001';
export const fixedMonitorId = (n: number) => `0b1d7e5c-0000-4000-8000-${String(n + 1000).padStart(12, '0')}`;

export async function seedMonitors(databaseUrl: string, count: number, tenantId = FIXED_TENANT): Promise<string[]> {
  const client = new Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query('INSERT INTO tenants (id, name) VALUES ($1, $2) ON CONFLICT DO NOTHING', [tenantId, 'fixture']);
    const ids = Array.from({ length: count }, (_, n) => fixedMonitorId(n));
    await client.query(
      `INSERT INTO monitors (id, tenant_id, slug, name, url, kind, interval_seconds, timeout_ms, confirm_after, recover_after)
       SELECT id, $1, 'm-' || n, 'Monitor ' || n, 'https://m-' || n || '.example.com/mcp', 'mcp', 60, 10000, 3, 1
       FROM unnest($2::uuid[]) WITH ORDINALITY AS x(id, n)`,
      [tenantId, ids],
    );
    return ids;
  } finally {
    await client.end();
  }
}

/** A deterministic stream of 0..1 values, so every run builds the same records. */
function unit(seed: string): number {
  return createHash('sha256').update(seed).digest().readUInt32BE(0) / 0xffffffff;
}

const LAYERS = ['transport', 'http', 'initialize', 'tools_list'] as const;

/**
 * `perMonitor` results for each monitor, one a minute from a fixed start: outages of
 * random layers and lengths, tool changes, and a share of producer replays (an earlier
 * record sent again at a later offset).
 */
export function fixtureResults(monitorIds: readonly string[], perMonitor: number, tenantId = FIXED_TENANT): ProbeResult[] {
  const start = Date.parse('2026-06-03T00:00:00Z');
  const out: ProbeResult[] = [];
  monitorIds.forEach((monitorId, m) => {
    const mine: ProbeResult[] = [];
    let failing = 0;
    let layer: (typeof LAYERS)[number] = 'http';
    let tools = 'v1';
    for (let i = 0; i < perMonitor; i++) {
      const r = unit(`${m}:${i}`);
      if (mine.length > 4 && r < 0.04) {
        mine.push(mine[Math.floor(unit(`dup:${m}:${i}`) * mine.length)]!);
        continue;
      }
      if (failing === 0 && r > 0.9) {
        failing = 1 + Math.floor(unit(`len:${m}:${i}`) * 8);
        layer = LAYERS[Math.floor(unit(`layer:${m}:${i}`) * 4)]!;
      }
      if (r > 0.985) tools = `v${i}`;
      const observedAt = new Date(start + i * 60_000).toISOString();
      const eventId = createHash('sha256').update(`${tenantId}:${monitorId}:${i}`).digest('hex');
      const id = `${eventId.slice(0, 8)}-${eventId.slice(8, 12)}-4${eventId.slice(13, 16)}-8${eventId.slice(17, 20)}-${eventId.slice(20, 32)}`;
      if (failing > 0) {
        failing--;
        // Now and then a shallower layer fails mid-outage: an escalation.
        const l = unit(`esc:${m}:${i}`) < 0.2 ? 'transport' : layer;
        mine.push({ event_id: id, tenant_id: tenantId, monitor_id: monitorId, observed_at: observedAt, ok: false, failure_layer: l, error: `${l} failed`, source: 'kafka' });
      } else {
        mine.push({
          event_id: id,
          tenant_id: tenantId,
          monitor_id: monitorId,
          observed_at: observedAt,
          ok: true,
          latency_ms: 20,
          tools_hash: `hash-${tools}`,
          tools: [
            { name: 'search', hash: `search-${tools}` },
            { name: 'fetch', hash: 'fetch-1' },
          ],
          source: 'kafka',
        });
      }
    }
    out.push(...mine);
  });
  // Interleave monitors as probers would: round-robin by result index.
  const byIndex: ProbeResult[] = [];
  for (let i = 0; i < perMonitor; i++) for (let m = 0; m < monitorIds.length; m++) byIndex.push(out[m * perMonitor + i]!);
  return byIndex;
}

export async function produceAll(brokers: string[], topic: string, results: readonly ProbeResult[]): Promise<void> {
  const kafka = new Kafka({ clientId: 'fixture-producer', brokers, logLevel: logLevel.NOTHING });
  const producer = kafka.producer({ idempotent: true, createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  try {
    for (let i = 0; i < results.length; i += 2_000) {
      await producer.send({
        topic,
        messages: results.slice(i, i + 2_000).map((r) => ({
          key: monitorKey(r.tenant_id, r.monitor_id),
          value: JSON.stringify(r),
          headers: { [HEADERS.tenantId]: r.tenant_id },
        })),
      });
    }
  } finally {
    await producer.disconnect();
  }
}

/** Waits until the router's stored offsets cover `total` records and the outbox is drained. */
export async function waitForRouter(databaseUrl: string, total: number, timeoutMs = 120_000): Promise<void> {
  const client = new Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await waitFor(
      async () => {
        const [row] = (
          await client.query<{ consumed: string; unpublished: string }>(
            `SELECT (SELECT coalesce(sum(next_offset), 0) FROM consumer_offsets WHERE consumer_group LIKE '%severity-router') AS consumed,
                    (SELECT count(*) FROM outbox WHERE published_at IS NULL) AS unpublished`,
          )
        ).rows;
        return Number(row!.consumed) >= total && Number(row!.unpublished) === 0;
      },
      { description: `router applied ${total} records`, timeoutMs },
    );
  } finally {
    await client.end();
  }
}

export interface RouterDump {
  readonly events: unknown[];
  readonly incidents: unknown[];
  readonly maintenance: unknown[];
  readonly snapshots: unknown[];
}

/** Everything the router decided, without positions and wall-clock stamps. */
export async function dumpRouterState(databaseUrl: string): Promise<RouterDump> {
  const client = new Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const q = async (sql: string) => (await client.query(sql)).rows;
    return {
      events: await q(`SELECT event_id, stream_id, stream_version, type, schema_version, data, metadata FROM events ORDER BY stream_id, stream_version`),
      incidents: await q(`SELECT * FROM incidents ORDER BY dedup_key`),
      maintenance: await q(`SELECT * FROM maintenance_periods ORDER BY tenant_id, monitor_id, maintenance_seq`),
      snapshots: await q(`SELECT tenant_id, monitor_id, stream_version, state, last_probe_at FROM monitor_state ORDER BY tenant_id, monitor_id`),
    };
  } finally {
    await client.end();
  }
}

/**
 * Every alert on the topic, keyed by event id. A relay killed between publishing and
 * marking rows published sends a row again with the same event id; copies must be equal.
 */
export async function readAlerts(brokers: string[], topic: string, expected: number, timeoutMs = 60_000): Promise<Map<string, unknown>> {
  const kafka = new Kafka({ clientId: 'fixture-reader', brokers, logLevel: logLevel.NOTHING });
  const consumer = kafka.consumer({ groupId: `fixture-reader-${Date.now()}-${Math.random()}` });
  const alerts = new Map<string, unknown>();
  const mismatched: string[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        const value = JSON.parse(message.value!.toString('utf8')) as { event_id: string };
        const prior = alerts.get(value.event_id);
        if (prior !== undefined && JSON.stringify(prior) !== JSON.stringify(value)) mismatched.push(value.event_id);
        alerts.set(value.event_id, value);
      },
    });
    await waitFor(() => alerts.size >= expected, { description: `${expected} alerts read`, timeoutMs });
  } finally {
    await consumer.disconnect();
  }
  if (mismatched.length > 0) throw new Error(`alerts re-published with different contents: ${mismatched.join(', ')}`);
  return alerts;
}

/** The built router as a real process, so a test can SIGKILL it. */
export function spawnRouter(env: Record<string, string>): ChildProcess {
  return spawn(process.execPath, appMainArgs('severity-router'), {
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'error', TOCSIN_MIGRATE_ON_BOOT: 'false', ...env },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}

export async function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  await new Promise<void>((resolve) => child.once('exit', () => resolve()));
}
