import { createHmac } from 'node:crypto';
import { Client } from 'pg';
import { startMcpServer, WebhookReceiver, waitFor, type TestMcpServer } from '@tocsin/testing';
import { ApiClient, startStack, type Stack } from '../src';

/**
 * The walking skeleton: an MCP server (official SDK) probed by probe-ingest goes down and
 * comes back; the receiver gets exactly one signed downtime_started and one downtime_resolved.
 */
describe('an MCP server outage becomes one signed webhook pair', () => {
  let stack: Stack;
  let mcp: TestMcpServer;
  let receiver: WebhookReceiver;
  let api: ApiClient;
  let endpoint: { id: string; secret: string };
  let monitorId: string;

  beforeAll(async () => {
    [stack, mcp, receiver] = await Promise.all([
      startStack(['api', 'probe-ingest', 'severity-router', 'dispatcher']),
      startMcpServer(),
      WebhookReceiver.start(),
    ]);
    ({ client: api } = await ApiClient.tenant(stack.apiUrl, 'acme'));
    const created = await api.post<{ id: string; secret: string }>('/v1/endpoints', {
      name: 'pager',
      url: receiver.url,
      retry_schedule_seconds: [0, 1, 1],
    });
    expect(created.status).toBe(201);
    expect(created.body.secret).toMatch(/^whsec_/);
    endpoint = created.body;
    const monitor = await api.post<{ id: string }>('/v1/monitors', {
      slug: 'docs-mcp',
      name: 'Docs MCP',
      url: mcp.url,
      kind: 'mcp',
      interval_seconds: 1,
      timeout_ms: 2000,
      confirm_after: 3,
    });
    expect(monitor.status).toBe(201);
    monitorId = monitor.body.id;
  });

  afterAll(async () => {
    await stack?.close();
    await Promise.all([mcp?.close(), receiver?.close()]);
  });

  it('reports the monitor up while the server answers', async () => {
    const status = await waitFor(
      async () => {
        const res = await api.get<{ status: string; last_ok: boolean }>(`/v1/monitors/${monitorId}/status`);
        return res.body.status === 'up' && res.body;
      },
      { description: 'monitor status up' },
    );
    expect(status.last_ok).toBe(true);
    expect(receiver.received).toHaveLength(0);
  });

  it('pages once when the server stops, with layer, severity, probe count and valid signatures', async () => {
    await mcp.stop();
    const [started] = await receiver.waitForEvent('downtime_started');
    expect(started!.body).toMatchObject({
      event: 'downtime_started',
      failure_layer: 'transport',
      severity: 'P1',
      probe_count: 3,
      server_slug: 'docs-mcp',
      server_url: mcp.url,
      sequence: 1,
    });
    expect(started!.body.dedup_key).toEqual(expect.stringMatching(/^tcs_[0-9a-f]{32}$/));
    expect(Date.parse(String(started!.body.delivered_at))).not.toBeNaN();
    expect(WebhookReceiver.verify(endpoint.secret, started!)).toBe(true);
    expect(started!.headers['x-tocsin-signature']).toBe(
      `sha256=${createHmac('sha256', endpoint.secret).update(started!.rawBody).digest('hex')}`,
    );
    expect(started!.headers['x-tocsin-event']).toBe('downtime_started');
    expect(started!.headers['x-tocsin-attempt']).toBe('1');
    expect(started!.headers['user-agent']).toMatch(/^Tocsin\//);
  });

  it('resolves once with the same dedup key when the server comes back', async () => {
    await mcp.start();
    const [resolved] = await receiver.waitForEvent('downtime_resolved');
    const [started] = receiver.ofEvent('downtime_started');
    expect(resolved!.body).toMatchObject({
      event: 'downtime_resolved',
      dedup_key: started!.body.dedup_key,
      started_at: started!.body.started_at,
      sequence: 2,
    });
    const resolvedAt = Date.parse(String(resolved!.body.resolved_at));
    expect(resolvedAt).toBeGreaterThan(Date.parse(String(started!.body.started_at)));
    expect(resolved!.body.duration_seconds).toBe(
      Math.round((resolvedAt - Date.parse(String(started!.body.started_at))) / 1000),
    );
    expect(WebhookReceiver.verify(endpoint.secret, resolved!)).toBe(true);
    expect(receiver.ofEvent('downtime_started')).toHaveLength(1);
    expect(receiver.ofEvent('downtime_resolved')).toHaveLength(1);
    expect(resolved!.headers['webhook-id']).not.toBe(started!.headers['webhook-id']);
  });

  it('records each delivery and its attempt in the event store and the API', async () => {
    // The receiver answers before the dispatcher commits the outcome: wait for that commit.
    const list = await waitFor(
      async () => {
        const res = await api.get<{ data: Array<{ id: string; status: string; event: string }> }>(`/v1/endpoints/${endpoint.id}/deliveries`);
        return res.body.data.every((d) => d.status !== 'in_flight') && res;
      },
      { description: 'both outcomes recorded' },
    );
    expect(list.body.data.map((d) => [d.event, d.status])).toEqual([
      ['downtime_started', 'delivered'],
      ['downtime_resolved', 'delivered'],
    ]);
    const webhookIds = receiver.received.map((r) => r.headers['webhook-id']);
    expect(list.body.data.map((d) => d.id)).toEqual(webhookIds);

    const detail = await api.get<{ attempts: Array<{ outcome: string; http_status: number }> }>(
      `/v1/deliveries/${list.body.data[0]!.id}`,
    );
    expect(detail.body.attempts).toEqual([expect.objectContaining({ outcome: 'succeeded', http_status: 200 })]);

    const db = new Client({ connectionString: stack.database.url });
    await db.connect();
    try {
      const rows = await db.query('SELECT type FROM events WHERE stream_id = $1 ORDER BY stream_version', [
        `delivery-${list.body.data[0]!.id}`,
      ]);
      expect(rows.rows.map((r) => r.type)).toEqual(['DeliveryCreated', 'AttemptStarted', 'AttemptSucceeded']);
      const incident = await db.query("SELECT type FROM events WHERE stream_id LIKE 'monitor-%' ORDER BY position");
      expect(incident.rows.map((r) => r.type)).toEqual(['IncidentOpened', 'IncidentResolved']);
    } finally {
      await db.end();
    }
  });

  it('lists the resolved incident with its timeline', async () => {
    const [started] = receiver.ofEvent('downtime_started');
    const incidents = await api.get<{ data: Array<{ dedup_key: string; status: string }> }>('/v1/incidents?status=resolved');
    expect(incidents.body.data).toEqual([expect.objectContaining({ dedup_key: started!.body.dedup_key, status: 'resolved' })]);
    const detail = await api.get<{ timeline: Array<{ type: string }> }>(`/v1/incidents/${started!.body.dedup_key}`);
    expect(detail.body.timeline.map((e) => e.type)).toEqual(['IncidentOpened', 'IncidentResolved']);
  });

  it("answers 404 for another tenant's resources", async () => {
    const { client: other } = await ApiClient.tenant(stack.apiUrl, 'globex');
    const [started] = receiver.ofEvent('downtime_started');
    const deliveryId = String(started!.headers['webhook-id']);
    for (const path of [
      `/v1/monitors/${monitorId}`,
      `/v1/monitors/${monitorId}/status`,
      `/v1/endpoints/${endpoint.id}`,
      `/v1/endpoints/${endpoint.id}/secret`,
      `/v1/endpoints/${endpoint.id}/deliveries`,
      `/v1/deliveries/${deliveryId}`,
      `/v1/incidents/${String(started!.body.dedup_key)}`,
    ]) {
      const res = await other.get(path);
      expect([path, res.status]).toEqual([path, 404]);
      expect(res.body).toMatchObject({ statusCode: 404, error: 'Not Found' });
    }
    expect((await other.get<{ data: unknown[] }>('/v1/monitors')).body.data).toEqual([]);
    expect((await other.get<{ data: unknown[] }>('/v1/incidents')).body.data).toEqual([]);
  });
});
