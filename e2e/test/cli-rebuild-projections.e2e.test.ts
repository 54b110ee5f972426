import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { topicNames, type ProbeResult } from '@tocsin/contracts';
import { FIXED_TENANT, fixedMonitorId, fixtureResults, produceAll, runTocsin, seedMonitors, startStack, waitForRouter, type Stack } from '../src';

const MONITORS = 20;
const PER_MONITOR = 120;

/**
 * `tocsin admin rebuild-projections` against a real database the real router filled: after
 * a TRUNCATE of the read models, the command brings back exactly the rows the router wrote.
 */
describe('tocsin admin rebuild-projections', () => {
  let stack: Stack;
  let db: Client;
  const dump = async () => ({
    incidents: (await db.query('SELECT * FROM incidents ORDER BY dedup_key')).rows,
    maintenance: (await db.query('SELECT * FROM maintenance_periods ORDER BY tenant_id, monitor_id, maintenance_seq')).rows,
  });

  beforeAll(async () => {
    stack = await startStack(['severity-router']);
    const ids = await seedMonitors(stack.database.url, MONITORS);
    // Outages, escalations and tool changes for every monitor, then receiver maintenance:
    // one period ended on monitor 0, one still open on monitor 1.
    const after = (i: number) => new Date(Date.parse('2026-06-03T00:00:00Z') + (PER_MONITOR + i) * 60_000).toISOString();
    const receiver = (monitor: number, i: number, status: ProbeResult['status']): ProbeResult => ({
      event_id: randomUUID(),
      tenant_id: FIXED_TENANT,
      monitor_id: fixedMonitorId(monitor),
      observed_at: after(i),
      ok: true,
      status,
      source: 'receiver',
    });
    const records = [
      ...fixtureResults(ids, PER_MONITOR),
      receiver(0, 1, 'maintenance'),
      receiver(1, 1, 'maintenance'),
      receiver(0, 5, 'operational'),
    ];
    await produceAll(stack.config.KAFKA_BROKERS, topicNames(stack.config.TOCSIN_TOPIC_NAMESPACE).probeResults, records);
    await waitForRouter(stack.database.url, records.length);
    // From here on only the command writes the read models.
    await stack.stop('severity-router');
    db = new Client({ connectionString: stack.database.url });
    await db.connect();
  });

  afterAll(async () => {
    await db?.end();
    await stack?.close();
  });

  it('rebuilds the truncated read models equal to the ones the router wrote', async () => {
    const live = await dump();
    expect(live.incidents.length).toBeGreaterThan(MONITORS);
    expect(live.incidents.some((i: { status: string }) => i.status === 'open')).toBe(true);
    expect(live.maintenance.map((m: { ended_at: Date | null }) => m.ended_at === null)).toEqual([false, true]);
    const [{ n: monitorEvents }] = (await db.query(`SELECT count(*)::int AS n FROM events WHERE stream_id LIKE 'monitor-%'`)).rows;

    await db.query('TRUNCATE incidents, maintenance_periods');
    expect(await dump()).toEqual({ incidents: [], maintenance: [] });

    // For people, with the database from DATABASE_URL.
    const people = await runTocsin(['admin', 'rebuild-projections'], { DATABASE_URL: stack.database.url });
    expect([people.code, people.stderr]).toEqual([0, '']);
    expect(people.stdout).toMatch(new RegExp(`^rebuilt incidents, maintenance_periods from ${monitorEvents} events in \\d+ ms\\n$`));
    expect(await dump()).toEqual(live);

    // For scripts, with the flag (winning over a DATABASE_URL that points nowhere); a second rebuild changes nothing.
    const script = await runTocsin(['admin', 'rebuild-projections', '--database-url', stack.database.url, '--json'], {
      DATABASE_URL: 'postgres://postgres@127.0.0.1:9/nowhere',
    });
    expect([script.code, script.stderr]).toEqual([0, '']);
    expect(JSON.parse(script.stdout)).toEqual({ tables: ['incidents', 'maintenance_periods'], events: monitorEvents, duration_ms: expect.any(Number) });
    expect(await dump()).toEqual(live);
  });

  it('exits 1 with one clear line, and no stack trace, when the database cannot be used', async () => {
    const unreachable = await runTocsin(['admin', 'rebuild-projections', '--database-url', 'postgres://postgres:s3cret@127.0.0.1:9/tocsin']);
    expect(unreachable).toEqual({
      code: 1,
      stdout: '',
      stderr: 'error: cannot connect to the database at postgres://postgres:***@127.0.0.1:9/tocsin: connect ECONNREFUSED 127.0.0.1:9\n',
    });

    const missing = new URL(stack.database.url);
    missing.pathname = '/tocsin_no_such_database';
    const absent = await runTocsin(['admin', 'rebuild-projections', '--json'], { DATABASE_URL: missing.toString() });
    expect([absent.code, absent.stdout]).toEqual([1, '']);
    expect(absent.stderr).toBe(`error: cannot connect to the database at ${missing.toString()}: database "tocsin_no_such_database" does not exist\n`);
  });

  it('exits 2 on a URL that is not Postgres, and 0 with help', async () => {
    const notUrl = await runTocsin(['admin', 'rebuild-projections', '--database-url', 'not a url']);
    expect([notUrl.code, notUrl.stderr]).toEqual([2, 'error: --database-url is not a URL: expected postgres://user[:password]@host[:port]/database\n']);
    const http = await runTocsin(['admin', 'rebuild-projections'], { DATABASE_URL: 'http://127.0.0.1:5432/tocsin' });
    expect([http.code, http.stderr]).toEqual([2, 'error: DATABASE_URL must be a postgres:// URL, not http://…\n']);
    for (const args of [['admin'], ['admin', 'rebuild-projections']]) {
      const help = await runTocsin([...args, '--help']);
      expect(help.code).toBe(0);
      expect(help.stdout).toContain(`Usage: tocsin ${args.join(' ')}`);
    }
    expect((await runTocsin(['--help'])).stdout).toContain('admin');
  });
});
