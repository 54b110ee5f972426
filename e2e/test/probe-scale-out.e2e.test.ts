import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { Client } from 'pg';
import { phaseMs, slotIndex } from '@tocsin/probe-ingest';
import { waitFor } from '@tocsin/testing';
import { ApiClient, ProbeResultTap, startStack, type Stack } from '../src';

const MONITORS = 200;
const INTERVAL_MS = 5_000;
const SHARED_MS = 30_000;
const SURVIVOR_MS = 30_000;
const MAIN = path.resolve(__dirname, '../../apps/probe-ingest/dist/main.js');

/**
 * Two probe-ingest processes share 200 monitors through the lease table: every monitor is
 * probed once in each interval slot, never twice, never skipped; SIGKILL one, and the other
 * keeps every slot filled from the next one on.
 */
describe('probe-ingest scaled out over two processes', () => {
  let stack: Stack;
  let api: ApiClient;
  let tap: ProbeResultTap;
  let target: Server;
  const replicas: ChildProcess[] = [];
  const ids: string[] = [];

  const spawnReplica = (): ChildProcess => {
    const child = spawn(process.execPath, [MAIN], {
      env: {
        ...process.env,
        DATABASE_URL: stack.database.url,
        KAFKA_BROKERS: stack.config.KAFKA_BROKERS.join(','),
        TOCSIN_TOPIC_NAMESPACE: stack.config.TOCSIN_TOPIC_NAMESPACE,
        TOCSIN_TOPIC_PARTITIONS: String(stack.config.TOCSIN_TOPIC_PARTITIONS),
        TOCSIN_ENCRYPTION_KEY: stack.config.TOCSIN_ENCRYPTION_KEY,
        TOCSIN_ALLOW_PRIVATE_URLS: 'true',
        TOCSIN_MIGRATE_ON_BOOT: 'false',
        TOCSIN_MONITOR_REFRESH_MS: '500',
        TOCSIN_PROBE_LEASE_GRACE_MS: '2000',
        PORT: '0',
        HOST: '127.0.0.1',
        LOG_LEVEL: 'error',
      },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    replicas.push(child);
    return child;
  };

  beforeAll(async () => {
    stack = await startStack(['api']);
    ({ client: api } = await ApiClient.tenant(stack.apiUrl, 'acme'));
    target = createServer((_req, res) => res.writeHead(204).end());
    await new Promise<void>((resolve) => target.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(target.address() as AddressInfo).port}`;
    for (let i = 0; i < MONITORS; i++) {
      const res = await api.post<{ id: string }>('/v1/monitors', {
        slug: `svc-${i}`,
        name: `svc ${i}`,
        url: `${base}/svc/${i}`,
        kind: 'http',
        interval_seconds: INTERVAL_MS / 1000,
        timeout_ms: 1000,
      });
      expect(res.status).toBe(201);
      ids.push(res.body.id);
    }
    tap = await ProbeResultTap.start(stack.config);
  });

  afterAll(async () => {
    for (const child of replicas) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await tap?.stop();
    await stack?.close();
    await new Promise((resolve) => target?.close(resolve));
  });

  it('probes each monitor once per interval, and the survivor takes over a SIGKILLed replica', async () => {
    const [a, b] = [spawnReplica(), spawnReplica()];
    await waitFor(() => new Set(tap.results.map((r) => r.monitor_id)).size === MONITORS, {
      description: 'every monitor probed once',
      timeoutMs: 60_000,
    });
    const sharedFrom = Date.now();
    const owners = new Set<string>();
    const db = new Client({ connectionString: stack.database.url });
    await db.connect();
    try {
      // Both replicas hold leases while they share the work.
      await waitFor(
        async () => {
          const { rows } = await db.query<{ owner: string }>('SELECT DISTINCT owner FROM probe_leases WHERE owner IS NOT NULL');
          for (const row of rows) owners.add(row.owner);
          return owners.size >= 2 && Date.now() - sharedFrom >= SHARED_MS;
        },
        { description: 'two replicas sharing for a while', timeoutMs: SHARED_MS + 30_000, intervalMs: 20 },
      );
    } finally {
      await db.end();
    }
    expect(owners.size).toBe(2);

    const killedAt = Date.now();
    a.kill('SIGKILL');
    await waitFor(() => a.signalCode === 'SIGKILL' && Date.now() - killedAt >= SURVIVOR_MS, {
      description: 'the survivor alone for a while',
      timeoutMs: SURVIVOR_MS + 10_000,
    });
    const endedAt = Date.now();
    // Results of the last slot may still be on their way.
    await waitFor(() => tap.results.some((r) => Date.parse(r.observed_at) >= endedAt), { description: 'results drained' });
    // A SIGTERM mid-run drains: the probes in flight finish and publish, every lease is
    // handed back (none left to expire), and the process exits 0.
    const bExited = new Promise<number | null>((resolve) => b.once('exit', (code) => resolve(code)));
    b.kill('SIGTERM');
    expect(await bExited).toBe(0);
    const leases = new Client({ connectionString: stack.database.url });
    await leases.connect();
    try {
      const held = await leases.query<{ n: number }>('SELECT count(*)::int AS n FROM probe_leases WHERE owner IS NOT NULL OR lease_until IS NOT NULL');
      expect(held.rows[0]!.n).toBe(0);
    } finally {
      await leases.end();
    }

    let counted = 0;
    const problems: string[] = [];
    for (const id of ids) {
      const phase = phaseMs(id, INTERVAL_MS);
      const first = slotIndex(sharedFrom, INTERVAL_MS, phase) + 1;
      const last = slotIndex(endedAt, INTERVAL_MS, phase) - 1;
      const killSlot = slotIndex(killedAt, INTERVAL_MS, phase);
      const perSlot = new Map<number, number>();
      for (const r of tap.of(id)) {
        const slot = slotIndex(Date.parse(r.observed_at), INTERVAL_MS, phase);
        perSlot.set(slot, (perSlot.get(slot) ?? 0) + 1);
      }
      for (let slot = first; slot <= last; slot++) {
        const n = perSlot.get(slot) ?? 0;
        counted += n;
        // A probe in flight on the killed replica may have published just before the kill; its
        // lease then runs out and the survivor probes that slot again. Nowhere else.
        const allowed = slot === killSlot ? [1, 2] : [1];
        if (!allowed.includes(n)) problems.push(`monitor ${id} slot ${slot}: ${n} probes`);
      }
    }
    const slots = Math.round((endedAt - sharedFrom) / INTERVAL_MS) - 2;
    process.stdout.write(`scale-out: ${counted} probes counted over ~${slots} slots × ${MONITORS} monitors\n`);
    expect(problems).toEqual([]);
    expect(counted).toBeGreaterThanOrEqual(MONITORS * (slots - 1));
  });
});
