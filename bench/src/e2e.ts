/**
 * End-to-end benchmark: the built severity-router, dispatcher and api run as processes
 * against real Kafka and Postgres. Phase 1 pushes healthy results for N monitors and
 * measures router throughput (results/s until its committed offsets reach the end).
 * Phase 2 fails every monitor 3 times and measures the latency from producing the
 * confirming probe to receiving its downtime_started webhook, for all at once and then
 * for incidents one at a time. Beside them it prints the bare path they are built on, in
 * the same run: a message through two Kafka hops on the same broker (probe results →
 * router → alerts → dispatcher) and then one undici POST to a receiver, one at a time
 * and as a burst.
 *
 *   npm run bench:e2e -- --monitors 200 --results 50
 */
import { randomBytes, randomUUID } from 'node:crypto';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { Kafka, logLevel, Partitioners, type Admin } from 'kafkajs';
import { Agent, request } from 'undici';
import { HEADERS, topicNames, type ProbeResult } from '@tocsin/contracts';
import { createTestDatabase, waitFor, WebhookReceiver } from '@tocsin/testing';
import { appEnv, call, freePort, percentile, startApp } from './harness';

const ADMIN = `bench-admin-${randomBytes(8).toString('hex')}`;

const { values } = parseArgs({
  options: {
    monitors: { type: 'string', default: '200' },
    results: { type: 'string', default: '50' },
    partitions: { type: 'string', default: '6' },
    'steady-rate': { type: 'string', default: '10000' },
    'burst-endpoints': { type: 'string', default: '1000' },
  },
});
const STEADY_RATE = Number(values['steady-rate']);
const BURST = Number(values['burst-endpoints']);

const MONITORS = Number(values.monitors);
const RESULTS_PER_MONITOR = Number(values.results);

/**
 * The bare path under ours: each message is produced, consumed and produced again (two
 * kafkajs hops with the same fetch wait as our consumers), then POSTed by undici. Returns
 * the produce → POST answered latencies of `rounds` sends of `perRound` messages each.
 */
async function barePath(kafka: Kafka, admin: Admin, url: string, rounds: number, perRound: number): Promise<number[]> {
  const first = `bench-bare-${randomBytes(4).toString('hex')}`;
  const second = `${first}-2`;
  await admin.createTopics({ topics: [{ topic: first, numPartitions: 6 }, { topic: second, numPartitions: 6 }], waitForLeaders: true });
  const producer = kafka.producer({ idempotent: true, createPartitioner: Partitioners.DefaultPartitioner });
  const relay = kafka.consumer({ groupId: first, maxWaitTimeInMs: 100 });
  const sink = kafka.consumer({ groupId: second, maxWaitTimeInMs: 100 });
  const agent = new Agent({ connections: 512 });
  const latencies: number[] = [];
  let arrived = 0;
  try {
    await Promise.all([producer.connect(), relay.connect(), sink.connect()]);
    await relay.subscribe({ topic: first, fromBeginning: true });
    await sink.subscribe({ topic: second, fromBeginning: true });
    await relay.run({
      eachBatch: async ({ batch }) => {
        await producer.send({ topic: second, messages: batch.messages.map((m) => ({ key: m.key, value: m.value })) });
      },
    });
    await sink.run({
      eachBatch: async ({ batch }) => {
        await Promise.all(
          batch.messages.map(async (m) => {
            const res = await request(url, { method: 'POST', body: m.value!, headers: { 'content-type': 'application/json' }, dispatcher: agent });
            await res.body.text();
            const { sent_at: sentAt, warmup } = JSON.parse(m.value!.toString()) as { sent_at: number; warmup?: boolean };
            if (!warmup) latencies.push(Date.now() - sentAt);
            arrived++;
          }),
        );
      },
    });
    const message = (i: number, warmup = false) => ({ key: String(i), value: JSON.stringify({ event: 'bare', sent_at: Date.now(), warmup }) });
    await producer.send({ topic: first, messages: [message(0, true)] });
    await waitFor(() => arrived === 1, { timeoutMs: 60_000, intervalMs: 5, description: 'bare path warmed up' });
    for (let r = 0; r < rounds; r++) {
      const expected = arrived + perRound;
      await producer.send({ topic: first, messages: Array.from({ length: perRound }, (_, i) => message(i)) });
      await waitFor(() => arrived >= expected, { timeoutMs: 60_000, intervalMs: 5, description: 'bare messages through' });
    }
  } finally {
    await Promise.all([relay.disconnect(), sink.disconnect(), producer.disconnect(), agent.close()]);
  }
  return latencies.sort((a, b) => a - b);
}

async function main(): Promise<void> {
  const brokers = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
  const database = await createTestDatabase();
  const namespace = `bench-${randomBytes(4).toString('hex')}.`;
  const topics = topicNames(namespace);
  const receiver = await WebhookReceiver.start();
  const env = appEnv({ databaseUrl: database.url, brokers, namespace, partitions: values.partitions, adminToken: ADMIN });
  const ports = { api: await freePort(), 'severity-router': await freePort(), dispatcher: await freePort() };
  const hanging = await WebhookReceiver.start('/hang');
  hanging.respondWith(() => 'hang');
  const children = Object.entries(ports).map(([name, port]) => startApp(name, { ...env, PORT: String(port) }));
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

    // Phase 4: one incident at a time again, while another tenant's endpoint hangs on
    // every request and the router takes a steady stream of healthy results.
    const other = await call<{ id: string }>('POST', `${api}/tenants`, ADMIN, { name: 'bench-hanging' });
    const otherKey = (await call<{ key: string }>('POST', `${api}/tenants/${other.id}/api-keys`, ADMIN, {})).key;
    await call('POST', `${api}/endpoints`, otherKey, { name: 'stuck', url: hanging.url, timeout_ms: 30_000 });
    const otherMonitors: string[] = [];
    for (let i = 0; i < 20; i++) {
      otherMonitors.push((await call<{ id: string }>('POST', `${api}/monitors`, otherKey, { slug: `h-${i}`, name: `h-${i}`, url: 'https://example.com/mcp' })).id);
    }
    const otherResult = (monitorId: string): ProbeResult => ({ ...result(monitorId, false), tenant_id: other.id });
    for (let k = 0; k < 3; k++) await send(otherMonitors.map(otherResult));
    await waitFor(() => hanging.received.length > 0, { timeoutMs: 60_000, description: 'the other tenant hanging' });
    const probed = monitorIds.slice(20, Math.min(40, MONITORS));
    const steadyMonitors = monitorIds.filter((id) => !probed.includes(id));
    let steadySent = 0;
    let steadyRunning = true;
    const steadyStarted = performance.now();
    const steady = (async () => {
      const tick = 100;
      const perTick = Math.max(1, Math.round((STEADY_RATE * tick) / 1000));
      let cursor = 0;
      while (steadyRunning) {
        const t0 = performance.now();
        const batch = Array.from({ length: perTick }, () => result(steadyMonitors[cursor++ % steadyMonitors.length]!, true));
        await send(batch);
        steadySent += batch.length;
        const wait = tick - (performance.now() - t0);
        if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      }
    })();
    const underLoad: number[] = [];
    for (const id of probed) {
      await send([result(id, true), result(id, false), result(id, false)]);
      await waitFor(
        async () => (await call<{ consecutive_failures?: number }>('GET', `${api}/monitors/${id}/status`, key)).consecutive_failures === 2,
        { timeoutMs: 120_000, intervalMs: 10, description: 'two failures applied' },
      );
      const before = receiver.ofEvent('downtime_started').length;
      const t0 = Date.now();
      await send([result(id, false)]);
      const [arrival] = (await receiver.waitForEvent('downtime_started', before + 1, { intervalMs: 5, timeoutMs: 120_000 })).slice(-1);
      underLoad.push(arrival!.receivedAt.getTime() - t0);
    }
    steadyRunning = false;
    await steady;
    const steadyRate = steadySent / ((performance.now() - steadyStarted) / 1000);
    await waitFor(routerCaughtUp, { timeoutMs: 600_000, intervalMs: 100, description: 'router caught up' });
    const routerLagFree = performance.now();
    underLoad.sort((a, b) => a - b);

    // Phase 5: a burst of incidents, each to an endpoint of its own (one tenant each).
    const burstReceiver = await WebhookReceiver.start('/burst');
    const burstMonitors: Array<{ tenant: string; monitor: string }> = [];
    const queue = Array.from({ length: BURST }, (_, i) => i);
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        for (let i = queue.shift(); i !== undefined; i = queue.shift()) {
          const t = await call<{ id: string }>('POST', `${api}/tenants`, ADMIN, { name: `burst-${i}` });
          const k = (await call<{ key: string }>('POST', `${api}/tenants/${t.id}/api-keys`, ADMIN, {})).key;
          await call('POST', `${api}/endpoints`, k, { name: 'pager', url: burstReceiver.url, include_recovery: false });
          const m = await call<{ id: string }>('POST', `${api}/monitors`, k, { slug: 'b', name: 'b', url: 'https://example.com/mcp' });
          burstMonitors.push({ tenant: t.id, monitor: m.id });
        }
      }),
    );
    const burstResult = (b: { tenant: string; monitor: string }): ProbeResult => ({ ...result(b.monitor, false), tenant_id: b.tenant });
    for (let k = 0; k < 2; k++) await send(burstMonitors.map(burstResult));
    await waitFor(routerCaughtUp, { timeoutMs: 600_000, intervalMs: 100, description: 'router caught up' });
    const burstSentAt = Date.now();
    await send(burstMonitors.map(burstResult));
    const burstArrivals = await burstReceiver.waitForEvent('downtime_started', BURST, { timeoutMs: 600_000, intervalMs: 20 });
    const burst = burstArrivals.map((a) => a.receivedAt.getTime() - burstSentAt).sort((a, b) => a - b);
    await burstReceiver.close();

    // The bare path, on the same broker and machine, right after ours.
    const bareReceiver = await WebhookReceiver.start('/bare');
    const bareSingle = await barePath(kafka, admin, bareReceiver.url, 20, 1);
    const bareBurst = await barePath(kafka, admin, bareReceiver.url, 1, BURST);
    await bareReceiver.close();

    const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
    process.stdout.write(
      [
        `machine: ${os.cpus().length} cores (${cpu}), ${Math.round(os.totalmem() / 2 ** 30)} GiB, node ${process.version}`,
        `monitors: ${MONITORS}, healthy results: ${total}, partitions: ${values.partitions}`,
        `router throughput: ${Math.round(total / elapsed)} results/s (${total} in ${elapsed.toFixed(2)} s; produce took ${((produced - started) / 1000).toFixed(2)} s)`,
        `confirming probe → webhook (${latencies.length} incidents, sent as one batch): p50 ${percentile(latencies, 50)} ms, p95 ${percentile(latencies, 95)} ms, p99 ${percentile(latencies, 99)} ms, max ${latencies.at(-1)} ms`,
        `confirming probe → webhook (${single.length} incidents, one at a time): p50 ${percentile(single, 50)} ms, p95 ${percentile(single, 95)} ms, p99 ${percentile(single, 99)} ms`,
        `confirming probe → webhook (${underLoad.length} incidents, one at a time, another tenant's endpoint hanging, healthy results produced at ${Math.round(steadyRate)} results/s): p50 ${percentile(underLoad, 50)} ms, p95 ${percentile(underLoad, 95)} ms, p99 ${percentile(underLoad, 99)} ms`,
        `router caught up with the steady stream ${((performance.now() - routerLagFree) / 1000).toFixed(1)} s ago; hanging endpoint saw ${hanging.received.length} requests`,
        `burst: ${burst.length} incidents to ${BURST} endpoints (one tenant each): p50 ${percentile(burst, 50)} ms, p95 ${percentile(burst, 95)} ms, p99 ${percentile(burst, 99)} ms, max ${burst.at(-1)} ms`,
        `bare path (two kafkajs hops, then an undici POST), ${bareSingle.length} messages one at a time: p50 ${percentile(bareSingle, 50)} ms, p95 ${percentile(bareSingle, 95)} ms, p99 ${percentile(bareSingle, 99)} ms`,
        `bare path, ${bareBurst.length} messages as one burst: p50 ${percentile(bareBurst, 50)} ms, p95 ${percentile(bareBurst, 95)} ms, p99 ${percentile(bareBurst, 99)} ms, max ${bareBurst.at(-1)} ms`,
        `webhooks received: ${receiver.received.length} (expected ${MONITORS + single.length + underLoad.length})`,
      ].join('\n') + '\n',
    );
  } finally {
    await producer.disconnect().catch(() => undefined);
    await admin.disconnect().catch(() => undefined);
    for (const child of children) child.kill('SIGTERM');
    await Promise.all(children.map((c) => new Promise((resolve) => (c.exitCode !== null ? resolve(null) : c.once('exit', resolve)))));
    await receiver.close();
    await hanging.close();
    await database.drop();
  }
}

main().catch((err: Error) => {
  process.stderr.write(`${err.stack ?? err.message}\n`);
  process.exit(1);
});
