import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { topicNames, type ProbeResult } from '@tocsin/contracts';
import { StorageRetention } from '@tocsin/severity-router';
import { FIXED_TENANT, fixedMonitorId, produceAll, seedMonitors, startStack, waitForRouter, type Stack } from '../src';

const MONITORS = 1_000;
const PER_MONITOR = 100; // 100,000 healthy results

/** DESIGN §3: nothing grows by a row per healthy probe; published outbox rows and old dedup ids are purged. */
describe('router storage stays bounded', () => {
  let stack: Stack;
  let client: Client;

  const count = async (table: string) => Number((await client.query(`SELECT count(*) AS n FROM ${table}`)).rows[0].n);

  beforeAll(async () => {
    stack = await startStack(['severity-router'], { TOCSIN_OUTBOX_RETENTION_SECONDS: '0' });
    client = new Client({ connectionString: stack.database.url });
    await client.connect();
    await seedMonitors(stack.database.url, MONITORS);
  });

  afterAll(async () => {
    await client?.end();
    await stack?.close();
  });

  it('100,000 healthy results for 1,000 monitors leave no row per result', async () => {
    const start = Date.parse('2026-07-01T00:00:00Z');
    const results: ProbeResult[] = [];
    for (let i = 0; i < PER_MONITOR; i++) {
      for (let m = 0; m < MONITORS; m++) {
        results.push({
          event_id: randomUUID(),
          tenant_id: FIXED_TENANT,
          monitor_id: fixedMonitorId(m),
          observed_at: new Date(start + i * 60_000).toISOString(),
          ok: true,
          latency_ms: 15,
          source: 'kafka',
        });
      }
    }
    await produceAll(stack.config.KAFKA_BROKERS, topicNames(stack.config.TOCSIN_TOPIC_NAMESPACE).probeResults, results);
    await waitForRouter(stack.database.url, results.length, 300_000);
    const counts: Record<string, number> = {};
    for (const t of ['events', 'outbox', 'processed_messages', 'incidents', 'maintenance_periods', 'monitor_state', 'consumer_offsets']) {
      counts[t] = await count(t);
    }
    expect(counts).toEqual({
      events: 0,
      outbox: 0,
      processed_messages: 0,
      incidents: 0,
      maintenance_periods: 0,
      monitor_state: MONITORS,
      consumer_offsets: 3,
    });
    const [snapshot] = (await client.query(`SELECT state FROM monitor_state WHERE monitor_id = $1`, [fixedMonitorId(0)])).rows;
    expect(snapshot.state).toMatchObject({ consecutiveSuccesses: PER_MONITOR, frontierIds: [results[(PER_MONITOR - 1) * MONITORS]!.event_id] });
  }, 360_000);

  it('purges published outbox rows and expired dedup ids, never unpublished rows', async () => {
    await client.query(`INSERT INTO outbox (topic, key, value, headers, published_at) SELECT 't', 'k', 'v', '{}', now() - interval '1 minute' FROM generate_series(1, 50)`);
    await client.query(`INSERT INTO outbox (topic, key, value, headers) VALUES ('never-relayed-topic', 'k', 'v', '{}')`);
    await client.query(
      `INSERT INTO processed_messages (consumer_group, event_id, processed_at)
       SELECT 'g', gen_random_uuid(), now() - (CASE WHEN n <= 30 THEN interval '8 days' ELSE interval '1 day' END) FROM generate_series(1, 40) AS n`,
    );
    await stack.apps.get('severity-router')!.get(StorageRetention).purge();
    expect((await client.query(`SELECT topic FROM outbox`)).rows).toEqual([{ topic: 'never-relayed-topic' }]);
    expect(await count('processed_messages')).toBe(10);
    await client.query(`DELETE FROM outbox`);
  });
});
