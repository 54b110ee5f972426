import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { topicNames } from '@tocsin/contracts';
import { startMcpServer, WebhookReceiver, waitFor, type TestMcpServer } from '@tocsin/testing';
import { ApiClient, ExternalProber, startStack, type AppName, type Stack } from '../src';

/**
 * After a real run (an MCP outage and recovery, pushed results, a malformed Kafka record,
 * an endpoint that always fails), every app's /metrics says what happened, in the names and
 * labels infra/prometheus/metrics.json lists, which the alert rules and the dashboard use.
 */

interface Series {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

interface CatalogueEntry {
  readonly name: string;
  readonly type: 'counter' | 'gauge' | 'histogram';
  /** The app that serves it, or the apps (tocsin_consumer_lag: every app with a consumer). */
  readonly app: string | readonly string[];
  readonly labels: Readonly<Record<string, readonly string[] | null>>;
}

const CATALOGUE: readonly CatalogueEntry[] = (
  JSON.parse(readFileSync(resolve(__dirname, '../../infra/prometheus/metrics.json'), 'utf8')) as { metrics: CatalogueEntry[] }
).metrics;

/** The Prometheus text format: its samples (no exemplars or timestamps here) and the names it declares. */
function parseExposition(text: string): Series[] & { declared: ReadonlySet<string> } {
  const series: Series[] = [];
  const declared = new Set<string>();
  for (const line of text.split('\n')) {
    const type = /^# TYPE (\S+) /.exec(line);
    if (type) declared.add(type[1]!);
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match) throw new Error(`not a sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const [, key, value] of (match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[key!] = value!;
    series.push({ name: match[1]!, labels, value: Number(match[3]) });
  }
  return Object.assign(series, { declared });
}

describe('metrics after an end-to-end run', () => {
  let stack: Stack;
  let mcp: TestMcpServer;
  let good: WebhookReceiver;
  let failing: WebhookReceiver;
  let prober: ExternalProber;
  let api: ApiClient;
  let tenantId: string;
  let monitorId: string;

  const scrape = async (app: AppName): Promise<ReturnType<typeof parseExposition>> => {
    const url = (await stack.apps.get(app)!.getUrl()).replace('[::1]', '127.0.0.1');
    const res = await fetch(`${url}/metrics`);
    expect(res.status).toBe(200);
    return parseExposition(await res.text());
  };
  const value = (series: readonly Series[], name: string, labels: Record<string, string> = {}): number | undefined =>
    series.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
  const sum = (series: readonly Series[], name: string, labels: Record<string, string> = {}): number =>
    series.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v)).reduce((n, s) => n + s.value, 0);

  beforeAll(async () => {
    [stack, mcp, good, failing] = await Promise.all([
      startStack(['api', 'probe-ingest', 'severity-router', 'dispatcher']),
      startMcpServer(),
      WebhookReceiver.start(),
      WebhookReceiver.start(),
    ]);
    failing.respondWith(() => ({ status: 500, body: 'down for good' }));
    ({ client: api, tenantId } = await ApiClient.tenant(stack.apiUrl, 'metered'));
    expect((await api.post('/v1/endpoints', { name: 'pager', url: good.url, retry_schedule_seconds: [0, 1] })).status).toBe(201);
    // One attempt and no retry: each of its deliveries dead-letters at once.
    expect((await api.post('/v1/endpoints', { name: 'broken', url: failing.url, retry_schedule_seconds: [0] })).status).toBe(201);
    const monitor = await api.post<{ id: string }>('/v1/monitors', {
      slug: 'metered-mcp',
      name: 'Metered MCP',
      url: mcp.url,
      kind: 'mcp',
      interval_seconds: 1,
      timeout_ms: 2000,
      confirm_after: 3,
    });
    expect(monitor.status).toBe(201);
    monitorId = monitor.body.id;
    prober = await ExternalProber.connect(stack);

    await waitFor(async () => (await api.get<{ status: string }>(`/v1/monitors/${monitorId}/status`)).body.status === 'up', {
      description: 'monitor up',
    });
    await mcp.stop();
    await good.waitForEvent('downtime_started');
    await mcp.start();
    await good.waitForEvent('downtime_resolved');

    const pushed = await api.post<{ accepted: number }>('/v1/probe-results', {
      results: [
        { monitor_id: monitorId, ok: true, latency_ms: 12 },
        { monitor_id: monitorId, ok: true, latency_ms: 14 },
        { monitor_id: monitorId, ok: false }, // a failure without its layer: refused
      ],
    });
    expect(pushed.status).toBe(202);
    expect(pushed.body.accepted).toBe(2);
    await prober.sendRaw({ key: `${tenantId}:${monitorId}`, value: 'not json at all' });
  }, 180_000);

  afterAll(async () => {
    await prober?.disconnect();
    await stack?.close();
    await Promise.all([mcp?.close(), good?.close(), failing?.close()]);
  });

  it('probe-ingest: probes by kind, layer and outcome, their latency, and nothing overdue', async () => {
    const probe = await scrape('probe-ingest');
    expect(value(probe, 'tocsin_probes_total', { kind: 'mcp', layer: 'transport', outcome: 'down' })).toBeGreaterThanOrEqual(3);
    expect(value(probe, 'tocsin_probes_total', { kind: 'mcp', layer: 'none', outcome: 'up' })).toBeGreaterThanOrEqual(2);
    expect(value(probe, 'tocsin_probe_seconds_count', { kind: 'mcp', layer: 'transport' })).toBeGreaterThanOrEqual(3);
    const overdue = value(probe, 'tocsin_probe_overdue_seconds');
    expect(overdue).toBeDefined();
    expect(overdue!).toBeLessThan(5);
  });

  it('api: pushed results accepted and refused', async () => {
    const apiSeries = await scrape('api');
    expect(value(apiSeries, 'tocsin_pushed_results_total', { outcome: 'accepted' })).toBe(2);
    expect(value(apiSeries, 'tocsin_pushed_results_total', { outcome: 'refused' })).toBe(1);
  });

  it('router: incidents by severity, batches, the DLQ by reason, an empty outbox and no lag', async () => {
    const topics = topicNames(stack.config.TOCSIN_TOPIC_NAMESPACE);
    const router = await waitFor(
      async () => {
        const s = await scrape('severity-router');
        const caughtUp =
          value(s, 'tocsin_dlq_records_total', { reason: 'malformed' }) === 1 &&
          value(s, 'tocsin_outbox_backlog') === 0 &&
          sum(s, 'tocsin_consumer_lag', { topic: topics.probeResults }) === 0;
        return caughtUp && s;
      },
      { description: 'router caught up, the malformed record dead-lettered' },
    );
    expect(value(router, 'tocsin_incident_transitions_total', { event: 'downtime_started', severity: 'P1' })).toBe(1);
    expect(value(router, 'tocsin_incident_transitions_total', { event: 'downtime_resolved', severity: 'P1' })).toBe(1);
    expect(value(router, 'tocsin_router_probe_results_total', { outcome: 'applied' })).toBeGreaterThanOrEqual(7);
    expect(value(router, 'tocsin_router_probe_results_total', { outcome: 'dead_lettered' })).toBe(1);
    expect(value(router, 'tocsin_router_batch_records_count')).toBeGreaterThan(0);
    expect(value(router, 'tocsin_router_batch_records_sum')).toBe(sum(router, 'tocsin_router_probe_results_total'));
    expect(value(router, 'tocsin_router_batch_seconds_count')).toBe(value(router, 'tocsin_router_batch_records_count'));
    expect(value(router, 'tocsin_outbox_published_total', { topic: topics.alerts })).toBe(2);
    expect(value(router, 'tocsin_outbox_published_total', { topic: topics.probeResultsDlq })).toBe(1);
    expect(value(router, 'tocsin_outbox_oldest_age_seconds')).toBe(0);
    // One series per partition the router owns (it owns all three here).
    const lag = router.filter((s) => s.name === 'tocsin_consumer_lag' && s.labels.topic === topics.probeResults);
    expect(lag.map((s) => s.labels.partition).sort()).toEqual(['0', '1', '2']);
  });

  it('dispatcher: deliveries and attempts by outcome, attempt latency, an empty queue, breakers and no lag', async () => {
    const topics = topicNames(stack.config.TOCSIN_TOPIC_NAMESPACE);
    const dispatcher = await waitFor(
      async () => {
        const s = await scrape('dispatcher');
        const settled =
          value(s, 'tocsin_deliveries_total', { outcome: 'dead_lettered' }) === 2 &&
          sum(s, 'tocsin_delivery_queue_depth') === 0 &&
          sum(s, 'tocsin_consumer_lag', { topic: topics.alerts }) === 0;
        return settled && s;
      },
      { description: 'both failing deliveries dead-lettered, the queue empty' },
    );
    expect(value(dispatcher, 'tocsin_deliveries_total', { outcome: 'delivered' })).toBe(2);
    expect(value(dispatcher, 'tocsin_delivery_attempts_total', { outcome: 'delivered' })).toBe(2);
    expect(value(dispatcher, 'tocsin_delivery_attempts_total', { outcome: 'dead_letter' })).toBe(2);
    expect(value(dispatcher, 'tocsin_delivery_attempt_seconds_count')).toBe(4);
    expect(good.received).toHaveLength(2);
    expect(failing.received).toHaveLength(2);
    // Two endpoints, each in exactly one breaker state.
    expect(sum(dispatcher, 'tocsin_endpoint_breakers')).toBe(2);
    expect(dispatcher.filter((s) => s.name === 'tocsin_endpoint_breakers').map((s) => s.labels.state).sort()).toEqual(['closed', 'half_open', 'open']);
    for (const state of ['due', 'leased', 'retrying']) expect(value(dispatcher, 'tocsin_delivery_queue_depth', { state })).toBe(0);
  });

  it('serves every catalogued metric, with only the labels and label values the catalogue lists', async () => {
    const byApp = new Map<string, ReturnType<typeof parseExposition>>();
    for (const app of ['api', 'probe-ingest', 'severity-router', 'dispatcher'] as const) byApp.set(app, await scrape(app));
    const catalogued = new Set(CATALOGUE.map((m) => m.name));
    const servedBy = CATALOGUE.flatMap((entry) => (typeof entry.app === 'string' ? [entry.app] : entry.app).map((app) => ({ entry, served: byApp.get(app)! })));
    for (const { entry, served } of servedBy) {
      const samples = entry.type === 'histogram' ? served.filter((s) => s.name === `${entry.name}_count`) : served.filter((s) => s.name === entry.name);
      // A labelled counter nothing has counted yet (no refused outbox row here) is declared, with no series.
      expect({ metric: entry.name, served: served.declared.has(entry.name) }).toEqual({ metric: entry.name, served: true });
      for (const sample of samples) {
        expect({ metric: entry.name, labels: Object.keys(sample.labels).sort() }).toEqual({ metric: entry.name, labels: Object.keys(entry.labels).sort() });
        for (const [label, allowed] of Object.entries(entry.labels)) {
          if (allowed) expect({ metric: entry.name, label, listed: allowed.includes(sample.labels[label]!) }).toEqual({ metric: entry.name, label, listed: true });
        }
      }
    }
    // And nothing named tocsin_* that the rules and the dashboard cannot know of.
    const uncatalogued = [...byApp.values()]
      .flat()
      .map((s) => s.name.replace(/_(bucket|sum|count)$/, ''))
      .filter((name) => name.startsWith('tocsin_') && !catalogued.has(name));
    expect([...new Set(uncatalogued)]).toEqual([]);
  });
});
