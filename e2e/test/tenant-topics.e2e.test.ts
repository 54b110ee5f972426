import { randomUUID } from 'node:crypto';
import { AclOperationTypes, AclPermissionTypes, AclResourceTypes, Kafka, logLevel, ResourcePatternTypes, type Producer } from 'kafkajs';
import { HEADERS, monitorKey, tenantProbeResultsTopic, topicNames, type ProbeResult } from '@tocsin/contracts';
import { WebhookReceiver, waitFor } from '@tocsin/testing';
import { ApiClient, DlqTap, startStack, type Stack } from '../src';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { startKafka, getFreePort } = require('@tocsin/local/lib/kafka') as {
  startKafka(options: { port: number; sasl: { users: Array<{ name: string; password: string }> } }): Promise<{ brokers: string; saslBrokers: string; stop(): Promise<void> }>;
  getFreePort(): Promise<number>;
};

type Name = 'mallory' | 'victim';
const PASSWORDS: Record<Name, string> = { mallory: `m-${randomUUID()}`, victim: `v-${randomUUID()}` };

/**
 * Tenant topics: each tenant's producer authenticates with SASL/SCRAM and may write only
 * to its own topic (a prefixed ACL), and the router takes the tenant from the topic name.
 * Its own broker, with a SASL listener and ACLs enforced.
 */
describe('tenant topics with SASL/SCRAM and prefixed ACLs', () => {
  let kafka: { brokers: string; saslBrokers: string; stop(): Promise<void> };
  let stack: Stack;
  let dlq: DlqTap;
  const receivers = {} as Record<Name, WebhookReceiver>;
  const tenants = {} as Record<Name, { client: ApiClient; tenantId: string; monitorId: string; topic: string }>;
  const producers = {} as Record<Name, Producer>;
  let clock = Date.now() - 60_000;

  const failure = (tenantId: string, monitorId: string): ProbeResult => ({
    event_id: randomUUID(),
    tenant_id: tenantId,
    monitor_id: monitorId,
    observed_at: new Date((clock += 1000)).toISOString(),
    ok: false,
    failure_layer: 'transport',
    error: 'ECONNREFUSED',
    source: 'kafka',
  });
  const send = (as: Name, topic: string, r: ProbeResult) =>
    producers[as].send({ topic, messages: [{ key: monitorKey(r.tenant_id, r.monitor_id), value: JSON.stringify(r), headers: { [HEADERS.tenantId]: r.tenant_id } }] });

  beforeAll(async () => {
    kafka = await startKafka({ port: await getFreePort(), sasl: { users: (Object.keys(PASSWORDS) as Name[]).map((name) => ({ name, password: PASSWORDS[name] })) } });
    [stack, receivers.mallory, receivers.victim] = await Promise.all([
      startStack(['api', 'severity-router', 'dispatcher'], { KAFKA_BROKERS: kafka.brokers, TOCSIN_TENANT_TOPICS: 'true' }),
      WebhookReceiver.start(),
      WebhookReceiver.start(),
    ]);
    const admin = new Kafka({ clientId: 'acl-admin', brokers: [kafka.brokers], logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    try {
      for (const name of ['mallory', 'victim'] as const) {
        const { client, tenantId } = await ApiClient.tenant(stack.apiUrl, name);
        expect((await client.post('/v1/endpoints', { name: 'pager', url: receivers[name].url })).status).toBe(201);
        const monitor = await client.post<{ id: string }>('/v1/monitors', { slug: `${name}-mcp`, name, url: `https://${name}.example.com/mcp`, confirm_after: 1 });
        const topic = tenantProbeResultsTopic(stack.config.TOCSIN_TOPIC_NAMESPACE, tenantId);
        tenants[name] = { client, tenantId, monitorId: monitor.body.id, topic };
        // What an operator runs once per tenant (docs/security.md gives the kafka-acls form).
        await admin.createAcls({
          acl: [
            {
              resourceType: AclResourceTypes.TOPIC,
              resourceName: topic,
              resourcePatternType: ResourcePatternTypes.PREFIXED,
              principal: `User:${name}`,
              host: '*',
              operation: AclOperationTypes.WRITE,
              permissionType: AclPermissionTypes.ALLOW,
            },
          ],
        });
      }
      // The router creates each tenant's topic on its next refresh.
      await waitFor(async () => {
        const topics = new Set(await admin.listTopics());
        return topics.has(tenants.mallory.topic) && topics.has(tenants.victim.topic);
      }, { description: 'tenant topics created by the router' });
    } finally {
      await admin.disconnect();
    }
    for (const name of ['mallory', 'victim'] as const) {
      producers[name] = new Kafka({
        clientId: `${name}-prober`,
        brokers: [kafka.saslBrokers],
        sasl: { mechanism: 'scram-sha-256', username: name, password: PASSWORDS[name] },
        logLevel: logLevel.NOTHING,
        retry: { retries: 2, initialRetryTime: 100 },
      }).producer({ idempotent: true, allowAutoTopicCreation: false });
      await producers[name].connect();
    }
    dlq = await DlqTap.start(stack.config);
  }, 180_000);

  afterAll(async () => {
    await Promise.all(Object.values(producers).map((p) => p?.disconnect()));
    await dlq?.stop();
    await stack?.close();
    await Promise.all(Object.values(receivers).map((r) => r?.close()));
    await kafka?.stop();
  });

  it('pages a tenant from its own topic', async () => {
    await send('mallory', tenants.mallory.topic, failure(tenants.mallory.tenantId, tenants.mallory.monitorId));
    const [paged] = await receivers.mallory.waitForEvent('downtime_started');
    expect(paged!.body).toMatchObject({ tenant_id: tenants.mallory.tenantId, server_slug: 'mallory-mcp', failure_layer: 'transport' });
  });

  it('refuses, at the broker, a tenant writing to another tenant\'s topic or to the shared one', async () => {
    const forged = failure(tenants.victim.tenantId, tenants.victim.monitorId);
    await expect(send('mallory', tenants.victim.topic, forged)).rejects.toThrow(/Not authorized to access topics/);
    await expect(send('mallory', topicNames(stack.config.TOCSIN_TOPIC_NAMESPACE).probeResults, forged)).rejects.toThrow(
      /Not authorized to access topics/,
    );
    const wrongPassword = new Kafka({
      clientId: 'guesser',
      brokers: [kafka.saslBrokers],
      sasl: { mechanism: 'scram-sha-256', username: 'victim', password: 'guess' },
      logLevel: logLevel.NOTHING,
      retry: { retries: 0 },
    }).producer();
    await expect(wrongPassword.connect()).rejects.toThrow(/authentication failed/i);
  });

  it('dead-letters a record in a tenant\'s topic that names another tenant', async () => {
    const forged = failure(tenants.victim.tenantId, tenants.victim.monitorId);
    await send('mallory', tenants.mallory.topic, forged);
    const dead = await waitFor(() => dlq.records.find((d) => d.headers[HEADERS.dlqSourceTopic] === tenants.mallory.topic), {
      description: 'the forged record in the DLQ',
    });
    expect(dead.reason).toBe(`tenant_id in the body is not the tenant of this topic (${tenants.mallory.tenantId})`);
    // The victim's own result, from its own topic, pages it: the forged one, older, did not.
    const own = failure(tenants.victim.tenantId, tenants.victim.monitorId);
    await send('victim', tenants.victim.topic, own);
    const [paged] = await receivers.victim.waitForEvent('downtime_started');
    expect(paged!.body).toMatchObject({ tenant_id: tenants.victim.tenantId, started_at: own.observed_at });
    expect(receivers.victim.ofEvent('downtime_started')).toHaveLength(1);
  });
});
