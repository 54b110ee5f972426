import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { HEADERS, monitorKey, monitorStreamId } from '@tocsin/contracts';
import { OtlpReceiver, startMcpServer, WebhookReceiver, waitFor, type ReceivedSpan, type ReceivedWebhook, type TestMcpServer } from '@tocsin/testing';
import { ApiClient, ExternalProber, startStack, type Stack } from '../src';

/**
 * One trace from the probe result to every attempt: the probe (or the push request, or a
 * team's own producer span) is the root or parent, the router's transition its child, the
 * dispatcher's fan-out and each webhook attempt below that, exported by OTLP/HTTP to a
 * collector endpoint; the event log's correlation id is that trace's id.
 */

const hex = (bytes: number) => randomBytes(bytes).toString('hex');

describe('tracing from the probe result to every attempt', () => {
  let stack: Stack;
  let collector: OtlpReceiver;
  let flaky: TestMcpServer;
  let steady: TestMcpServer;
  let receiver: WebhookReceiver;
  let prober: ExternalProber;
  let api: ApiClient;
  let tenantId: string;
  let apiKey: string;
  let db: Client;

  const monitor = async (slug: string, url: string, intervalSeconds: number, confirmAfter: number): Promise<string> => {
    const res = await api.post<{ id: string }>('/v1/monitors', {
      slug,
      name: slug,
      url,
      kind: 'mcp',
      interval_seconds: intervalSeconds,
      timeout_ms: 2000,
      confirm_after: confirmAfter,
    });
    expect(res.status).toBe(201);
    return res.body.id;
  };

  const startedFor = (slug: string): Promise<ReceivedWebhook> =>
    waitFor(() => receiver.received.find((w) => w.body.event === 'downtime_started' && w.body.server_slug === slug), {
      description: `downtime_started for ${slug}`,
      timeoutMs: 60_000,
    });

  /** The trace id the event log gives the monitor's IncidentOpened, and its delivery's attempt events. */
  const correlationOf = async (monitorId: string, deliveryId: string) => {
    const opened = await db.query<{ correlation_id: string }>(
      `SELECT metadata->>'correlation_id' AS correlation_id
       FROM events WHERE stream_id = $1 AND type = 'IncidentOpened'`,
      [monitorStreamId(tenantId, monitorId)],
    );
    expect(opened.rows).toHaveLength(1);
    // The receiver has the webhook a moment before the dispatcher records the attempt.
    const attempts = await waitFor(
      async () => {
        const { rows } = await db.query<{ type: string; correlation_id: string }>(
          `SELECT type, metadata->>'correlation_id' AS correlation_id FROM events WHERE stream_id = $1 ORDER BY stream_version`,
          [`delivery-${deliveryId}`],
        );
        return rows.some((r) => r.type === 'AttemptSucceeded') ? rows : undefined;
      },
      { description: `AttemptSucceeded of delivery ${deliveryId}` },
    );
    expect(attempts.map((r) => r.type)).toEqual(expect.arrayContaining(['DeliveryCreated', 'AttemptSucceeded']));
    return { opened: opened.rows[0]!, attempts };
  };

  /** Waits until the collector holds the whole chain of `traceId`, router span to the delivered attempt. */
  const chain = async (traceId: string, deliveryId: string) =>
    waitFor(
      () => {
        const spans = collector.trace(traceId);
        const router = spans.find((s) => s.service === 'tocsin-severity-router' && s.name === 'route probe result');
        const fanOut = spans.find((s) => s.service === 'tocsin-dispatcher' && s.name === 'fan out alert');
        const attempt = spans.find(
          (s) => s.service === 'tocsin-dispatcher' && s.name === 'webhook attempt' && s.attributes['tocsin.delivery_id'] === deliveryId,
        );
        return router && fanOut && attempt ? { spans, router, fanOut, attempt } : undefined;
      },
      { description: `spans of trace ${traceId}`, timeoutMs: 30_000 },
    );

  const expectChild = (child: ReceivedSpan, parent: ReceivedSpan) => {
    expect(child.traceId).toBe(parent.traceId);
    expect(child.parentSpanId).toBe(parent.spanId);
    expect(child.startNanos).toBeGreaterThanOrEqual(parent.startNanos);
  };

  beforeAll(async () => {
    collector = await OtlpReceiver.start();
    [stack, flaky, steady, receiver] = await Promise.all([
      startStack(['api', 'probe-ingest', 'severity-router', 'dispatcher'], {
        OTEL_EXPORTER_OTLP_ENDPOINT: collector.url,
        OTEL_BSP_SCHEDULE_DELAY: '100',
      }),
      startMcpServer(),
      startMcpServer(),
      WebhookReceiver.start(),
    ]);
    ({ client: api, tenantId, key: apiKey } = await ApiClient.tenant(stack.apiUrl, 'traced'));
    expect((await api.post('/v1/endpoints', { name: 'pager', url: receiver.url })).status).toBe(201);
    prober = await ExternalProber.connect(stack);
    db = new Client({ connectionString: stack.database.url });
    await db.connect();
  }, 120_000);

  afterAll(async () => {
    await db?.end();
    await prober?.disconnect();
    await stack?.close();
    await Promise.all([flaky?.close(), steady?.close(), receiver?.close(), collector?.close()]);
  });

  it('an actively probed outage: probe → route → fan out → attempt, one trace, and the event log correlates by it', async () => {
    const monitorId = await monitor('flaky-mcp', flaky.url, 1, 2);
    await waitFor(async () => (await api.get<{ status: string }>(`/v1/monitors/${monitorId}/status`)).body.status === 'up', {
      description: 'monitor up',
    });
    await flaky.stop();
    const webhook = await startedFor('flaky-mcp');
    const deliveryId = String(webhook.headers['webhook-id']);

    const { opened, attempts } = await correlationOf(monitorId, deliveryId);
    const traceId = opened.correlation_id;
    expect(traceId).toMatch(/^[0-9a-f]{32}$/);
    for (const attempt of attempts) expect(attempt.correlation_id).toBe(traceId);

    const { router, fanOut, attempt } = await chain(traceId, deliveryId);
    const probe = collector.spans.find((s) => s.spanId === router.parentSpanId);
    expect(probe).toMatchObject({ service: 'tocsin-probe-ingest', name: 'probe mcp', parentSpanId: '', traceId });
    expect(probe!.attributes).toMatchObject({ 'tocsin.monitor_id': monitorId, 'tocsin.probe.ok': false, 'tocsin.probe.layer': 'transport' });
    expectChild(router, probe!);
    expect(router.attributes).toMatchObject({ 'tocsin.tenant_id': tenantId, 'tocsin.monitor_id': monitorId, 'tocsin.events': 'IncidentOpened' });
    expectChild(fanOut, router);
    expect(fanOut.attributes).toMatchObject({ 'tocsin.event': 'downtime_started', 'tocsin.endpoints': 1 });
    expectChild(attempt, fanOut);
    expect(attempt.attributes).toMatchObject({ 'http.response.status_code': 200, 'tocsin.outcome': 'delivered', 'tocsin.tenant_id': tenantId });
    expect(attempt.endNanos).toBeGreaterThan(attempt.startNanos);
    expect(collector.refused).toEqual([]);
  });

  it("a pushed result continues the caller's trace through the API request to the attempt", async () => {
    const monitorId = await monitor('pushed-mcp', steady.url, 3600, 2);
    const callerTrace = hex(16);
    const callerSpan = hex(8);
    const res = await fetch(`${stack.apiUrl}/v1/probe-results`, {
      method: 'POST',
      headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json', traceparent: `00-${callerTrace}-${callerSpan}-01` },
      body: JSON.stringify({
        results: [
          { monitor_id: monitorId, ok: false, failure_layer: 'http', http_status: 502, error: 'bad gateway' },
          { monitor_id: monitorId, ok: false, failure_layer: 'http', http_status: 502, error: 'bad gateway' },
        ],
      }),
    });
    expect(res.status).toBe(202);
    const webhook = await startedFor('pushed-mcp');
    const deliveryId = String(webhook.headers['webhook-id']);

    const { opened, attempts } = await correlationOf(monitorId, deliveryId);
    expect(opened.correlation_id).toBe(callerTrace);
    for (const attempt of attempts) expect(attempt.correlation_id).toBe(callerTrace);

    const { router, attempt } = await chain(callerTrace, deliveryId);
    const request = collector.spans.find((s) => s.spanId === router.parentSpanId);
    expect(request).toMatchObject({ service: 'tocsin-api', name: 'POST /v1/probe-results', parentSpanId: callerSpan, traceId: callerTrace });
    expect(request!.attributes).toMatchObject({ 'http.response.status_code': 202 });
    expect(attempt.attributes).toMatchObject({ 'tocsin.outcome': 'delivered' });
  });

  it("a team's own Kafka record with a traceparent header is the parent of the router's span", async () => {
    const monitorId = await monitor('kafka-mcp', steady.url, 3600, 2);
    const producerTrace = hex(16);
    const producerSpan = hex(8);
    const failure = () => ({
      event_id: crypto.randomUUID(),
      tenant_id: tenantId,
      monitor_id: monitorId,
      observed_at: new Date().toISOString(),
      source: 'push',
      ok: false,
      failure_layer: 'initialize',
      latency_ms: 40,
      error: 'initialize: unsupported protocol version',
    });
    await prober.sendRaw(
      ...[failure(), failure()].map((result) => ({
        key: monitorKey(tenantId, monitorId),
        value: JSON.stringify(result),
        headers: { [HEADERS.tenantId]: tenantId, [HEADERS.traceparent]: `00-${producerTrace}-${producerSpan}-01` },
      })),
    );
    const webhook = await startedFor('kafka-mcp');
    const deliveryId = String(webhook.headers['webhook-id']);

    const { opened } = await correlationOf(monitorId, deliveryId);
    expect(opened.correlation_id).toBe(producerTrace);
    const { router } = await chain(producerTrace, deliveryId);
    expect(router.parentSpanId).toBe(producerSpan);
  });
});
