import { spawnSync } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { Kafka, logLevel, Partitioners } from 'kafkajs';
import { Pool } from 'pg';
import { HEADERS, MONITOR_EVENTS, monitorStreamId, topicNames } from '@tocsin/contracts';
import { waitFor } from '@tocsin/testing';
import { ChaosReceiver, countScenario, formatLedger, type CountedEndpoint, type CountedMonitor, type Ledger } from '../src/ledger';
import { Load, type DrivenMonitor } from '../src/load';
import { APP_NAMES, World, type AppName } from '../src/world';

/**
 * The whole system under a steady load while production's failures happen to it, one at a
 * time and then together, each counted afterwards (docs/reliability.md). Each scenario
 * drives its own monitors (pushed and produced results, and probed ones), breaks something
 * mid-load, clears it, and counts: incidents found against those the results imply,
 * webhooks received against deliveries, nothing recorded delivered without a 2xx, one dedup
 * key per incident. `TOCSIN_CHAOS_PROFILE=long` holds each fault longer and drives more
 * monitors (for the benchmark machine).
 */
const LONG = process.env.TOCSIN_CHAOS_PROFILE === 'long';
const NAMESPACE = 'chaos.';
const TOPICS = topicNames(NAMESPACE);
const PER_TENANT = LONG ? { push: 6, kafka: 6 } : { push: 2, kafka: 2 };
const PERIOD_MS = 200;
const WARM_MS = 2_000;
const HOLD_MS = LONG ? 15_000 : 4_000;
/** Probed monitors stay down this long after a fault clears: enough probes to confirm. */
const PROBED_TAIL_MS = 6_000;
const RETRY_SCHEDULE = [1, 1, 1, 2, 2, 2, 3, 3, 3, 5, 5, 5, 5, 10, 10, 10, 10, 30, 30, 30];
const SHUTDOWN_GRACE_MS = 30_000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('chaos: kill, restart and break things under load, and count', () => {
  let world: World;
  let db: Pool;
  let load: Load;
  let target: Server;
  let targetUrl: string;
  const downTargets = new Set<string>();
  const receivers: Record<'a1' | 'a2' | 'b', ChaosReceiver> = {} as never;
  const endpoints: CountedEndpoint[] = [];
  const tenants: Record<'a' | 'b', { id: string; apiKey: string }> = {} as never;
  const ledgers: Ledger[] = [];
  const poison: string[] = [];
  let scenarioNo = 0;

  const api = async <T>(method: string, url: string, token: string, body?: unknown): Promise<T> => {
    const res = await fetch(`${world.apiUrl}${url}`, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    if (!res.ok) throw new Error(`${method} ${url} → ${res.status} ${await res.text()}`);
    return (await res.json()) as T;
  };

  beforeAll(async () => {
    world = await World.create(NAMESPACE, (line) => process.stdout.write(`[chaos] kafka: ${line}\n`));
    db = new Pool({ connectionString: world.postgres.url, max: 4 });
    // A restart of Postgres ends idle connections; the pool makes new ones.
    db.on('error', () => undefined);
    target = createServer((req, res) => res.writeHead(downTargets.has(req.url!.split('/')[2]!) ? 503 : 200).end());
    await new Promise<void>((resolve) => target.listen(0, '127.0.0.1', resolve));
    targetUrl = `http://127.0.0.1:${(target.address() as AddressInfo).port}`;
    for (const name of ['a1', 'a2', 'b'] as const) receivers[name] = await ChaosReceiver.start(`/${name}`);
    for (const name of ['a', 'b'] as const) {
      const tenant = await api<{ id: string }>('POST', '/tenants', world.adminToken, { name: `chaos-${name}` });
      const { key } = await api<{ key: string }>('POST', `/tenants/${tenant.id}/api-keys`, world.adminToken, {});
      tenants[name] = { id: tenant.id, apiKey: key };
    }
    for (const [tenant, receiver] of [['a', receivers.a1], ['a', receivers.a2], ['b', receivers.b]] as const) {
      const made = await api<{ id: string; secret: string }>('POST', '/endpoints', tenants[tenant].apiKey, {
        name: receiver.url,
        url: receiver.url,
        timeout_ms: 5_000,
        retry_schedule_seconds: RETRY_SCHEDULE,
      });
      endpoints.push({ id: made.id, tenantId: tenants[tenant].id, secret: made.secret, receiver });
    }
    load = new Load(world.broker.brokers, NAMESPACE, () => world.apiUrl, db, PERIOD_MS);
    await load.connect();
  }, 300_000);

  afterAll(async () => {
    process.stdout.write(`\n${ledgers.map(formatLedger).join('\n')}\napp logs: ${world ? path.join(world.dir, 'logs') : 'none'}\n`);
    await load?.disconnect().catch(() => undefined);
    await db?.end().catch(() => undefined);
    await world?.close();
    for (const r of Object.values(receivers)) await r.close();
    await new Promise((resolve) => target?.close(resolve));
  }, 120_000);

  /** Records each partition's consumer has not yet committed (offsets kept in Postgres). */
  const lag = async (group: string, topic: string): Promise<number> => {
    const committed = new Map(
      (await db.query<{ partition: number; next_offset: string }>('SELECT partition, next_offset FROM consumer_offsets WHERE consumer_group = $1 AND topic = $2', [group, topic])).rows.map(
        (r) => [r.partition, Number(r.next_offset)],
      ),
    );
    const admin = new Kafka({ clientId: 'chaos-lag', brokers: [world.broker.brokers], logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    try {
      const end = await admin.fetchTopicOffsets(topic);
      return end.reduce((sum, p) => sum + Math.max(0, Number(p.high) - (committed.get(p.partition) ?? 0)), 0);
    } finally {
      await admin.disconnect();
    }
  };

  /** Nothing left anywhere: results applied, outbox published, alerts fanned out, deliveries finished. */
  const quiet = async (): Promise<string | true> => {
    const router = await lag(`${NAMESPACE}tocsin.severity-router`, TOPICS.probeResults);
    const dispatcher = await lag(`${NAMESPACE}tocsin.dispatcher`, TOPICS.alerts);
    const { rows } = await db.query<{ outbox: number; open: number }>(
      `SELECT (SELECT count(*) FROM outbox WHERE published_at IS NULL)::int AS outbox,
              (SELECT count(*) FROM deliveries WHERE status NOT IN ('delivered', 'dead_lettered', 'skipped'))::int AS open`,
    );
    const state = `router lag ${router}, dispatcher lag ${dispatcher}, unpublished outbox ${rows[0]!.outbox}, unfinished deliveries ${rows[0]!.open}`;
    return router === 0 && dispatcher === 0 && rows[0]!.outbox === 0 && rows[0]!.open === 0 ? true : state;
  };

  const settle = async (): Promise<void> => {
    let last = '';
    let quietSince = 0;
    await waitFor(
      async () => {
        const q = await quiet().catch((err: Error) => err.message);
        if (q !== true) {
          last = q;
          quietSince = 0;
          return false;
        }
        // Quiet twice, half a second apart: a record in flight between two hops is not quiet.
        quietSince ||= Date.now();
        return Date.now() - quietSince >= 500;
      },
      { timeoutMs: 120_000, intervalMs: 250, description: 'the pipeline quiet' },
    ).catch((err: Error) => {
      throw new Error(`${err.message}: ${last}`);
    });
  };

  /** Probed monitors: an HTTP target per scenario that probe-ingest probes every second. */
  const probedMonitors = async (prefix: string): Promise<Array<{ tenantId: string; id: string; slug: string; apiKey: string }>> => {
    const made = [];
    for (const name of ['a', 'b'] as const) {
      const slug = `${prefix}-${name}-probed`;
      const m = await api<{ id: string }>('POST', '/monitors', tenants[name].apiKey, {
        slug,
        name: slug,
        url: `${targetUrl}/t/${prefix}`,
        kind: 'http',
        interval_seconds: 1,
        timeout_ms: 500,
      });
      made.push({ tenantId: tenants[name].id, id: m.id, slug, apiKey: tenants[name].apiKey });
    }
    return made;
  };

  const pagedAtEvery = (m: DrivenMonitor) => () =>
    endpoints
      .filter((e) => e.tenantId === m.tenantId)
      .every((e) => e.receiver.received.some((w) => w.body.server_slug === m.slug && w.body.event === 'downtime_started' && w.body.tenant_id === m.tenantId));

  /**
   * One scenario: load on fresh monitors, the fault, then a canary incident timed from the
   * moment the repair began (the fault calls `repairing()`: a restart issued, a broker
   * started, a receiver back) to its page at every endpoint, which is the recovery time;
   * then the load stopped at a cycle's end, the pipeline let go quiet, and everything counted.
   */
  const scenario = async (name: string, fault: (repairing: () => void) => Promise<void>): Promise<Ledger> => {
    const prefix = `s${++scenarioNo}`;
    const driven = [...(await load.monitors(tenants.a, `${prefix}-a`, PER_TENANT)), ...(await load.monitors(tenants.b, `${prefix}-b`, PER_TENANT))];
    const [canary] = await load.monitors(tenants.a, `${prefix}-canary`, { push: 0, kafka: 1 });
    const probed = await probedMonitors(prefix);
    await sendPoison(prefix);
    load.start(driven);
    await sleep(WARM_MS);
    downTargets.add(prefix);
    let repairStarted = 0;
    await fault(() => (repairStarted = Date.now()));
    const cleared = Date.now();
    let recoveryMs = 0;
    await load.cycle(canary!, async () => {
      await waitFor(pagedAtEvery(canary!), { timeoutMs: 120_000, intervalMs: 20, description: `the canary paged after "${name}"` });
      recoveryMs = Date.now() - (repairStarted || cleared);
    });
    await sleep(Math.max(0, cleared + PROBED_TAIL_MS - Date.now()));
    downTargets.delete(prefix);
    await load.stop();
    // Every probed monitor's incident resolved (its target answers again) before the counting;
    // one that never opened is counted as lost below, so a timeout here is not the failure.
    await waitFor(
      async () => {
        const { rows } = await db.query<{ n: number }>(`SELECT count(DISTINCT stream_id)::int AS n FROM events WHERE type = $2 AND stream_id = ANY($1)`, [
          probed.map((p) => monitorStreamId(p.tenantId, p.id)),
          MONITOR_EVENTS.IncidentResolved.type,
        ]);
        return rows[0]!.n === probed.length;
      },
      { timeoutMs: 60_000, description: 'the probed monitors up again' },
    ).catch(() => undefined);
    for (const p of probed) await api('PATCH', `/monitors/${p.id}`, p.apiKey, { interval_seconds: 86_400 });
    await settle();
    const counted: CountedMonitor[] = [
      ...[...driven, canary!].map((m) => ({ tenantId: m.tenantId, id: m.id, slug: m.slug, expectedIncidents: m.cycles, sent: m.sent, retries: m.retries })),
      ...probed.map((p) => ({ tenantId: p.tenantId, id: p.id, slug: p.slug, expectedIncidents: 1, sent: 0, retries: 0 })),
    ];
    const ledger = await countScenario(db, name, counted, endpoints, recoveryMs);
    ledgers.push(ledger);
    process.stdout.write(`${formatLedger(ledger)}\n`);
    return ledger;
  };

  /** A record that is not JSON, produced beside the load: the one thing meant for the DLQ. */
  const producer = () => new Kafka({ clientId: 'chaos-poison', brokers: [world.broker.brokers], logLevel: logLevel.NOTHING }).producer({ createPartitioner: Partitioners.DefaultPartitioner });
  const sendPoison = async (prefix: string): Promise<void> => {
    const key = `${tenants.b.id}:poison-${prefix}`;
    const p = producer();
    await p.connect();
    await p.send({ topic: TOPICS.probeResults, messages: [{ key, value: '{"not": json', headers: { [HEADERS.tenantId]: tenants.b.id } }] });
    await p.disconnect();
    poison.push(key);
  };

  const expectClean = (l: Ledger) => {
    expect(l.problems).toEqual([]);
    expect(l.lost).toBe(0);
    expect(l.wronglyDelivered).toBe(0);
    expect(l.incidentsFound).toBe(l.incidentsExpected);
    expect(l.incidentsExpected).toBeGreaterThan(0);
  };

  const restartAfterKill = (name: AppName) => async (repairing: () => void) => {
    await world.apps[name].kill();
    await sleep(1_000);
    repairing();
    await world.apps[name].start();
  };

  for (const name of APP_NAMES) {
    it(`kill -9 of ${name} mid-load, restarted: nothing lost or doubled`, async () => {
      expectClean(await scenario(`kill -9 ${name}`, restartAfterKill(name)));
    });
  }

  it('the broker stopped and started again', async () => {
    expectClean(
      await scenario('broker stopped, restarted', async (repairing) => {
        await world.broker.down({ signal: 'SIGTERM' });
        await sleep(HOLD_MS);
        repairing();
        await world.broker.up();
      }),
    );
  });

  it('the broker killed -9 and started again', async () => {
    expectClean(
      await scenario('broker kill -9, restarted', async (repairing) => {
        await world.broker.down({ signal: 'SIGKILL' });
        await sleep(HOLD_MS);
        repairing();
        await world.broker.up();
      }),
    );
  });

  it('Postgres restarted, and Postgres crashed (kill -9 of the postmaster, crash recovery)', async () => {
    expectClean(
      await scenario('Postgres restart, then crash', async (repairing) => {
        await world.postgres.restart();
        await sleep(HOLD_MS / 2);
        repairing();
        await world.postgres.crash();
      }),
    );
  });

  it('a receiver down for several retry intervals, then back', async () => {
    expectClean(
      await scenario('receiver down', async (repairing) => {
        receivers.a1.down = true;
        await sleep(HOLD_MS * 2);
        repairing();
        receivers.a1.down = false;
      }),
    );
  });

  it('delay, retransmission stalls, resets and a black hole between the apps and the broker', async () => {
    expectClean(
      await scenario('network faults to the broker', async (repairing) => {
        world.proxy.set({ delayMs: 60, jitterMs: 40, stallRate: 0.05, stallMs: 300, resetRate: 0.002 });
        await sleep(HOLD_MS);
        world.proxy.set({ blackhole: true });
        world.proxy.resetAll();
        await sleep(HOLD_MS / 2);
        repairing();
        world.proxy.set({});
      }),
    );
  });

  it('a rolling restart with SIGTERM: each app drains (exit 0 in the grace period, nothing held) and nothing is lost or doubled', async () => {
    const exits: string[] = [];
    const ledger = await scenario('rolling SIGTERM of every app', async (repairing) => {
      repairing();
      for (const name of ['probe-ingest', 'severity-router', 'dispatcher', 'api'] as const) {
        const { code, ms } = await world.apps[name].terminate();
        exits.push(`${name} exit ${code} in ${ms} ms`);
        expect([name, code]).toEqual([name, 0]);
        expect(ms).toBeLessThan(SHUTDOWN_GRACE_MS);
        const held = await db.query<{ leases: number; in_flight: number }>(
          `SELECT (SELECT count(*) FROM probe_leases WHERE owner IS NOT NULL)::int AS leases,
                  (SELECT count(*) FROM deliveries WHERE status = 'in_flight')::int AS in_flight`,
        );
        // Nothing left to a lease: probe-ingest handed its monitors back, the dispatcher recorded its attempts.
        if (name === 'probe-ingest') expect(held.rows[0]!.leases).toBe(0);
        if (name === 'dispatcher') expect(held.rows[0]!.in_flight).toBe(0);
        await world.apps[name].start();
      }
    });
    process.stdout.write(`  ${exits.join(', ')}\n`);
    expectClean(ledger);
  });

  it('all at once: every app, the broker and Postgres killed -9 together', async () => {
    expectClean(
      await scenario('everything killed -9 together', async (repairing) => {
        // crash() starts Postgres again at once; the broker and the apps follow.
        await Promise.all([...APP_NAMES.map((name) => world.apps[name].kill()), world.broker.down({ signal: 'SIGKILL' }), world.postgres.crash()]);
        repairing();
        await world.broker.up();
        for (const name of APP_NAMES) await world.apps[name].start();
      }),
    );
  });

  it('afterwards: consumer lag zero, the DLQ holds only the poison records, projections equal a rebuild', async () => {
    await settle();
    expect(await lag(`${NAMESPACE}tocsin.severity-router`, TOPICS.probeResults)).toBe(0);
    expect(await lag(`${NAMESPACE}tocsin.dispatcher`, TOPICS.alerts)).toBe(0);

    const dead = new Set<string>();
    const consumer = new Kafka({ clientId: 'chaos-dlq', brokers: [world.broker.brokers], logLevel: logLevel.NOTHING }).consumer({ groupId: 'chaos-dlq-reader' });
    await consumer.connect();
    await consumer.subscribe({ topic: TOPICS.probeResultsDlq, fromBeginning: true });
    let records = 0;
    await consumer.run({
      eachMessage: async ({ message }) => {
        records++;
        dead.add(message.key?.toString() ?? '');
      },
    });
    await waitFor(() => dead.size >= poison.length, { timeoutMs: 60_000, description: 'the poison records in the DLQ' }).catch(() => undefined);
    await consumer.disconnect();
    expect([...dead].sort()).toEqual([...poison].sort());

    // The read models the router wrote live equal the ones rebuilt from the event store.
    await world.apps['severity-router'].kill();
    const dump = async () => ({
      incidents: (await db.query('SELECT * FROM incidents ORDER BY dedup_key')).rows,
      maintenance: (await db.query('SELECT * FROM maintenance_periods ORDER BY tenant_id, monitor_id, maintenance_seq')).rows,
    });
    const live = await dump();
    const rebuilt = spawnSync(process.execPath, [path.resolve(__dirname, '../../apps/severity-router/dist/rebuild-projections-cli.js')], { env: world.env, encoding: 'utf8' });
    expect([rebuilt.status, rebuilt.stderr]).toEqual([0, '']);
    expect(await dump()).toEqual(live);
    expect(live.incidents.length).toBe(ledgers.reduce((s, l) => s + l.incidentsFound, 0));
    const recovery = Math.max(...ledgers.map((l) => l.recoveryMs));
    process.stdout.write(
      `\nafterwards: lag 0, DLQ ${records} records (${dead.size} distinct, all poison), projections = rebuild (${live.incidents.length} incidents), max recovery ${(recovery / 1000).toFixed(1)} s\n`,
    );
  });
});
