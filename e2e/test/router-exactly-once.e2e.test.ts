import { randomBytes } from 'node:crypto';
import { Kafka, logLevel } from 'kafkajs';
import { Client } from 'pg';
import { topicNames, type ProbeResult } from '@tocsin/contracts';
import { createTestDatabase, waitFor, type TestDatabase } from '@tocsin/testing';
import {
  dumpRouterState,
  exited,
  fixedMonitorId,
  fixtureResults,
  produceAll,
  readAlerts,
  seedMonitors,
  spawnRouter,
  startStack,
  waitForRouter,
  type RouterDump,
  type Stack,
} from '../src';

const MONITORS = 100;
const PER_MONITOR = 100; // 10,000 records
const ALERTING = new Set(['IncidentOpened', 'IncidentResolved', 'IncidentEscalated', 'SchemaDriftDetected', 'SloBreachWarned']);
const alertCount = (dump: RouterDump) => (dump.events as Array<{ type: string }>).filter((e) => ALERTING.has(e.type)).length;
const sortedAlerts = (alerts: Map<string, unknown>) => [...alerts.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([, v]) => v);

/**
 * The exactly-once effect, proven by comparing contents: the same 10,000 records fed again
 * from offset 0, or fed to a router killed with SIGKILL mid-run and restarted, leave the
 * events, the read models, the snapshots and the alerts topic equal to one clean run's.
 */
describe('router exactly-once', () => {
  let stack: Stack;
  let records: ProbeResult[];
  let clean: RouterDump;
  let cleanAlerts: unknown[];

  beforeAll(async () => {
    stack = await startStack(['severity-router']);
    await seedMonitors(stack.database.url, MONITORS);
    records = fixtureResults(Array.from({ length: MONITORS }, (_, n) => fixedMonitorId(n)), PER_MONITOR);
    expect(records).toHaveLength(10_000);
    await produceAll(stack.config.KAFKA_BROKERS, topicNames(stack.config.TOCSIN_TOPIC_NAMESPACE).probeResults, records);
    await waitForRouter(stack.database.url, records.length);
    clean = await dumpRouterState(stack.database.url);
    cleanAlerts = sortedAlerts(await readAlerts(stack.config.KAFKA_BROKERS, topicNames(stack.config.TOCSIN_TOPIC_NAMESPACE).alerts, alertCount(clean)));
  });

  afterAll(async () => {
    await stack?.close();
  });

  it('the clean run decided something worth comparing', () => {
    const types = new Set((clean.events as Array<{ type: string }>).map((e) => e.type));
    expect([...types].sort()).toEqual(
      expect.arrayContaining(['IncidentEscalated', 'IncidentOpened', 'IncidentResolved', 'SchemaDriftDetected']),
    );
    expect(clean.incidents.length).toBeGreaterThan(20);
    expect(cleanAlerts).toHaveLength(alertCount(clean));
  });

  it('resetting the consumer group and the stored offsets to the start and feeding again changes nothing', async () => {
    const client = new Client({ connectionString: stack.database.url });
    await client.connect();
    try {
      const outboxBefore = (await client.query('SELECT count(*)::int AS n FROM outbox')).rows[0].n as number;
      await stack.stop('severity-router');
      await client.query('DELETE FROM consumer_offsets');
      const admin = new Kafka({ clientId: 'reset', brokers: stack.config.KAFKA_BROKERS, logLevel: logLevel.NOTHING }).admin();
      await admin.connect();
      try {
        const groupId = `${stack.config.TOCSIN_TOPIC_NAMESPACE}tocsin.severity-router`;
        await admin.resetOffsets({ groupId, topic: topicNames(stack.config.TOCSIN_TOPIC_NAMESPACE).probeResults, earliest: true });
      } finally {
        await admin.disconnect();
      }
      await stack.start('severity-router');
      await waitForRouter(stack.database.url, records.length);
      expect(await dumpRouterState(stack.database.url)).toEqual(clean);
      expect((await client.query('SELECT count(*)::int AS n FROM outbox')).rows[0].n).toBe(outboxBefore);
      const alerts = await readAlerts(stack.config.KAFKA_BROKERS, topicNames(stack.config.TOCSIN_TOPIC_NAMESPACE).alerts, cleanAlerts.length);
      expect(sortedAlerts(alerts)).toEqual(cleanAlerts);
    } finally {
      await client.end();
    }
  });

  it('a router killed with SIGKILL mid-run and restarted ends where a clean run ends', async () => {
    const database: TestDatabase = await createTestDatabase();
    const namespace = `e2e-${randomBytes(4).toString('hex')}.`;
    const topics = topicNames(namespace);
    const env = {
      DATABASE_URL: database.url,
      KAFKA_BROKERS: stack.config.KAFKA_BROKERS.join(','),
      TOCSIN_TOPIC_NAMESPACE: namespace,
      TOCSIN_TOPIC_PARTITIONS: '3',
      TOCSIN_OUTBOX_POLL_MS: '50',
    };
    const admin = new Kafka({ clientId: 'kill-test', brokers: stack.config.KAFKA_BROKERS, logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    const client = new Client({ connectionString: database.url });
    await client.connect();
    let router = spawnRouter(env);
    try {
      await seedMonitors(database.url, MONITORS);
      await waitFor(async () => (await admin.listTopics()).includes(topics.probeResults), { description: 'router created its topics', timeoutMs: 60_000 });
      await produceAll(stack.config.KAFKA_BROKERS, topics.probeResults, records.slice(0, 6_000));
      await waitFor(
        async () => Number((await client.query('SELECT coalesce(sum(next_offset), 0) AS n FROM consumer_offsets')).rows[0].n) > 0,
        { description: 'router under way', timeoutMs: 60_000, intervalMs: 5 },
      );
      router.kill('SIGKILL');
      await exited(router);
      const consumedAtKill = Number((await client.query('SELECT coalesce(sum(next_offset), 0) AS n FROM consumer_offsets')).rows[0].n);
      expect(consumedAtKill).toBeLessThan(records.length);
      await produceAll(stack.config.KAFKA_BROKERS, topics.probeResults, records.slice(6_000));
      router = spawnRouter(env);
      await waitForRouter(database.url, records.length);
      expect(await dumpRouterState(database.url)).toEqual(clean);
      const alerts = await readAlerts(stack.config.KAFKA_BROKERS, topics.alerts, cleanAlerts.length);
      expect(sortedAlerts(alerts)).toEqual(cleanAlerts);
    } finally {
      router.kill('SIGKILL');
      await exited(router);
      await client.end();
      await admin.disconnect();
      await database.drop();
    }
  });
});
