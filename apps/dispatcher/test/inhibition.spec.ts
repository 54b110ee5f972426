import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import type { AlertEvent } from '@tocsin/contracts';
import { createTestDataSource, waitFor, type TestDataSource } from '@tocsin/testing';
import { hostOf, inhibitions } from '../src/deliveries/inhibition';

describe('inhibition by host on real Postgres', () => {
  let db: TestDataSource;
  let ds: DataSource;

  beforeAll(async () => {
    db = await createTestDataSource(4);
    ds = db.dataSource;
  });

  afterAll(async () => {
    await db?.drop();
  });

  const tenant = async (inhibit: boolean): Promise<string> => {
    const id = randomUUID();
    await ds.query('INSERT INTO tenants (id, name) VALUES ($1, $2)', [id, `t-${id.slice(0, 8)}`]);
    await ds.query('INSERT INTO tenant_settings (tenant_id, inhibit_by_host) VALUES ($1, $2)', [id, inhibit]);
    return id;
  };
  // Only who, what, where and which layer matter here.
  const alert = (tenantId: string, event: string, dedupKey: string, url: string, layer = 'transport') =>
    ({ event_id: randomUUID(), event, tenant_id: tenantId, dedup_key: dedupKey, server_url: url, failure_layer: layer }) as unknown as AlertEvent;

  it('lets exactly one of two fan-outs racing for a host page, the other naming it', async () => {
    const t = await tenant(true);
    const first = alert(t, 'downtime_started', 'k-first', 'https://db.example.com/a');
    const second = alert(t, 'downtime_started', 'k-second', 'https://DB.example.com:9/b');
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let claimed!: () => void;
    const hasClaimed = new Promise<void>((resolve) => (claimed = resolve));
    // The first transaction claims the host and holds its commit; the second runs meanwhile.
    const one = ds.transaction(async (m) => {
      const out = await inhibitions(m, [first]);
      claimed();
      await held;
      return out;
    });
    await hasClaimed;
    const two = ds.transaction((m) => inhibitions(m, [second]));
    // The second waits on the first's claim (the unique index) until it commits.
    await waitFor(
      async () => {
        const [row] = await ds.query(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`);
        return row.n >= 1;
      },
      { description: 'the second fan-out waiting on the claim' },
    );
    release();
    const [a, b] = await Promise.all([one, two]);
    expect(a.size).toBe(0);
    expect([...b.values()]).toEqual(['k-first']);
  });

  it('carries an inhibited start to its escalation and resolution, and ends a claim with its incident', async () => {
    const t = await tenant(true);
    const url = 'https://cache.example.com/mcp';
    await ds.transaction(async (m) => {
      expect((await inhibitions(m, [alert(t, 'downtime_started', 'c-1', url)])).size).toBe(0);
      const follower = alert(t, 'downtime_started', 'c-2', url, 'http');
      expect((await inhibitions(m, [follower])).get(follower.event_id)).toBe('c-1');
      const escalated = alert(t, 'incident_escalated', 'c-2', url);
      expect((await inhibitions(m, [escalated])).get(escalated.event_id)).toBe('c-1');
      expect((await inhibitions(m, [alert(t, 'downtime_resolved', 'c-1', url)])).size).toBe(0);
      const resolved = alert(t, 'downtime_resolved', 'c-2', url);
      expect((await inhibitions(m, [resolved])).get(resolved.event_id)).toBe('c-1');
      // The host's next outage claims it again.
      expect((await inhibitions(m, [alert(t, 'downtime_started', 'c-3', url, 'http')])).size).toBe(0);
      expect((await inhibitions(m, [alert(t, 'downtime_started', 'c-4', url)])).size).toBe(0);
    });
  });

  it('inhibits nothing for a tenant that did not turn it on, nor across tenants', async () => {
    const off = await tenant(false);
    const on = await tenant(true);
    const url = 'https://shared.example.com/mcp';
    await ds.transaction(async (m) => {
      expect((await inhibitions(m, [alert(off, 'downtime_started', 'o-1', url), alert(off, 'downtime_started', 'o-2', url)])).size).toBe(0);
      expect((await inhibitions(m, [alert(on, 'downtime_started', 'n-1', url)])).size).toBe(0);
    });
  });

  it('reads the host without port or case, and none from a URL that has none', () => {
    expect(hostOf('https://DB.Example.com:8443/mcp')).toBe('db.example.com');
    expect(hostOf('not a url')).toBeUndefined();
  });
});
