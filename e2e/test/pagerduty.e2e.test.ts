import { Client } from 'pg';
import { PagerDutyStandIn, WebhookReceiver, waitFor } from '@tocsin/testing';
import { ApiClient, startStack, type Stack } from '../src';

const ROUTING_KEY = 'R0ut1ngKeyOfAnEventsV2Integrat10';

/**
 * A `pagerduty` endpoint is a delivery like any other (DESIGN §9): an outage triggers a
 * PagerDuty event with Tocsin's dedup key and the mapped severity, its recovery resolves
 * that same key, a 429 is retried, a test event goes through the same path; the routing key
 * is sealed and never answered back. Driven against a local stand-in of the Events API v2.
 */
describe('PagerDuty endpoints', () => {
  let stack: Stack;
  let pd: PagerDutyStandIn;
  let receiver: WebhookReceiver;
  let api: ApiClient;
  let endpointId: string;

  const push = (slug: string, ok: boolean) =>
    api.post('/v1/probe-results', { results: [{ monitor_id: slug, ok, ...(ok ? {} : { failure_layer: 'http', http_status: 503, error: 'HTTP 503' }) }] });
  const outage = async (slug: string) => {
    for (let i = 0; i < 3; i++) expect((await push(slug, false)).status).toBe(202);
  };

  beforeAll(async () => {
    [pd, receiver] = await Promise.all([PagerDutyStandIn.start(), WebhookReceiver.start()]);
    stack = await startStack(['api', 'severity-router', 'dispatcher'], { PAGERDUTY_EVENTS_URL: pd.url });
    ({ client: api } = await ApiClient.tenant(stack.apiUrl, 'pd'));
    const created = await api.post<Record<string, unknown> & { id: string }>('/v1/endpoints', {
      name: 'on-call',
      type: 'pagerduty',
      config: { routing_key: ROUTING_KEY },
      retry_schedule_seconds: [0, 1, 1, 1],
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ type: 'pagerduty', url: pd.url, status: 'active' });
    expect(JSON.stringify(created.body)).not.toContain(ROUTING_KEY);
    endpointId = created.body.id;
    // A webhook endpoint beside it: both are deliveries of the same alerts.
    expect((await api.post('/v1/endpoints', { name: 'hook', url: receiver.url })).status).toBe(201);
    for (const [slug, policy] of [['payments', {}], ['search', { http: 'P2' }]] as const) {
      expect((await api.post('/v1/monitors', { slug, name: slug, url: 'https://example.com/mcp', severity_policy: policy })).status).toBe(201);
    }
  });

  afterAll(async () => {
    await stack?.close();
    await Promise.all([pd?.close(), receiver?.close()]);
  });

  it('refuses a pagerduty endpoint without a routing key, or with what only a webhook takes, naming the field', async () => {
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ name: 'x', type: 'pagerduty' }, 'config'],
      [{ name: 'x', type: 'pagerduty', config: { routing_key: 'short' } }, 'config.routing_key'],
      [{ name: 'x', type: 'pagerduty', config: { routing_key: ROUTING_KEY }, url: receiver.url }, 'url'],
      [{ name: 'x', type: 'pagerduty', config: { routing_key: ROUTING_KEY }, headers: { 'x-a': 'b' } }, 'headers'],
      [{ name: 'x' }, 'url'],
      [{ name: 'x', url: receiver.url, config: { routing_key: ROUTING_KEY } }, 'config'],
    ];
    for (const [body, field] of cases) {
      const res = await api.post<{ message: string; errors?: Array<{ path: string }> }>('/v1/endpoints', body);
      expect([res.status, JSON.stringify(res.body)]).toEqual([400, expect.stringContaining(field)]);
    }
    const patched = await api.call('PATCH', `/v1/endpoints/${endpointId}`, { url: receiver.url });
    expect([patched.status, JSON.stringify(patched.body)]).toEqual([400, expect.stringContaining('url')]);
    expect((await api.post(`/v1/endpoints/${endpointId}/rotate-secret`, {})).status).toBe(409);
  });

  it('keeps the routing key sealed at rest and out of every answer', async () => {
    const db = new Client({ connectionString: stack.database.url });
    await db.connect();
    try {
      const { rows } = await db.query<{ row: string; secret: string }>('SELECT row_to_json(e)::text AS row, secret FROM endpoints e WHERE id = $1', [endpointId]);
      expect(rows[0]!.secret).toMatch(/^enc:v2:/);
      expect(rows[0]!.row).not.toContain(ROUTING_KEY);
    } finally {
      await db.end();
    }
    for (const path of [`/v1/endpoints/${endpointId}`, '/v1/endpoints']) expect(JSON.stringify((await api.get(path)).body)).not.toContain(ROUTING_KEY);
  });

  it('triggers on downtime_started with the dedup key and severity, and resolves the same key', async () => {
    await outage('payments');
    const [trigger] = await waitFor(() => pd.accepted.filter((e) => e.payload?.component === 'payments').length > 0 && pd.accepted, { description: 'the trigger at PagerDuty' });
    const [webhook] = await receiver.waitForEvent('downtime_started');
    expect(trigger).toMatchObject({
      routing_key: ROUTING_KEY,
      event_action: 'trigger',
      dedup_key: webhook!.body.dedup_key,
      payload: { severity: 'critical', source: 'https://example.com/mcp', component: 'payments', class: 'http', summary: expect.stringContaining('P1 payments down (http): HTTP 503') },
      client: 'Tocsin',
    });
    expect(trigger!.payload!.custom_details).toMatchObject({ event: 'downtime_started', dedup_key: webhook!.body.dedup_key, severity: 'P1' });

    expect((await push('payments', true)).status).toBe(202);
    await waitFor(() => pd.accepted.some((e) => e.event_action === 'resolve'), { description: 'the resolve at PagerDuty' });
    expect(pd.accepted.filter((e) => e.event_action === 'resolve')).toEqual([{ routing_key: ROUTING_KEY, event_action: 'resolve', dedup_key: webhook!.body.dedup_key }]);
    expect(pd.refused).toEqual([]);
  });

  it('maps P2 to error, and retries a 429 until PagerDuty takes the event', async () => {
    pd.throttle = 2;
    await outage('search');
    const trigger = await waitFor(() => pd.accepted.find((e) => e.payload?.component === 'search'), { description: 'the throttled trigger at PagerDuty' });
    expect(trigger.payload!.severity).toBe('error');
    expect(pd.throttled).toBe(2);
    const deliveries = await api.get<{ data: Array<{ event: string; status: string; attempt_count: number; dedup_key: string }> }>(`/v1/endpoints/${endpointId}/deliveries`);
    const delivered = deliveries.body.data.find((d) => d.dedup_key === trigger.dedup_key && d.event === 'downtime_started');
    expect(delivered).toMatchObject({ status: 'delivered', attempt_count: 3 });
  });

  it('sends a test event through the same path', async () => {
    const before = pd.accepted.length;
    expect((await api.post(`/v1/endpoints/${endpointId}/test`, {})).status).toBe(202);
    const [test] = await waitFor(() => pd.accepted.length > before && pd.accepted.slice(before), { description: 'the test event at PagerDuty' });
    expect(test).toMatchObject({ event_action: 'trigger', payload: { severity: 'warning', summary: expect.stringContaining('test event from Tocsin') } });
  });
});
