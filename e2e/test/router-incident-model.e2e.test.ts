import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { promisify } from 'node:util';
import { Client } from 'pg';
import type { AlertEvent, ProbeResult } from '@tocsin/contracts';
import { WebhookReceiver, waitFor } from '@tocsin/testing';
import { ApiClient, ExternalProber, startStack, type Stack } from '../src';

/**
 * The incident model through the real stack: tenant and monitor severity overrides,
 * escalation, schema drift, maintenance windows and receiver statuses, status, the SLA
 * ledger to the second, timelines, and projections rebuilt from the event store.
 */
describe('router incident model', () => {
  let stack: Stack;
  let receiver: WebhookReceiver;
  let api: ApiClient;
  let tenantId: string;
  let prober: ExternalProber;
  let db: Client;
  let clock = Date.now() - 3_600_000;

  const result = (monitorId: string, ok: boolean, extra: Partial<ProbeResult> = {}): ProbeResult => ({
    event_id: randomUUID(),
    tenant_id: tenantId,
    monitor_id: monitorId,
    observed_at: new Date((clock += 1000)).toISOString(),
    ok,
    source: 'kafka',
    ...(ok ? {} : { failure_layer: 'http', error: 'HTTP 502' }),
    ...extra,
  });
  const monitor = async (slug: string, extra: Record<string, unknown> = {}) => {
    const res = await api.post<{ id: string }>('/v1/monitors', { slug, name: slug, url: `https://${slug}.example.com/mcp`, ...extra });
    expect(res.status).toBe(201);
    return res.body.id;
  };
  const status = async (id: string) => (await api.get<{ status: string; consecutive_failures: number; last_probe_at: string | null }>(`/v1/monitors/${id}/status`)).body;
  const outboxAlerts = async (monitorId: string): Promise<AlertEvent[]> =>
    (await db.query(`SELECT value FROM outbox WHERE key = $1 ORDER BY id`, [`${tenantId}:${monitorId}`])).rows.map(
      (r: { value: string }) => JSON.parse(r.value) as AlertEvent,
    );

  beforeAll(async () => {
    [stack, receiver] = await Promise.all([startStack(['api', 'severity-router', 'dispatcher']), WebhookReceiver.start()]);
    ({ client: api, tenantId } = await ApiClient.tenant(stack.apiUrl, 'acme'));
    await api.post('/v1/endpoints', { name: 'pager', url: receiver.url });
    prober = await ExternalProber.connect(stack);
    db = new Client({ connectionString: stack.database.url });
    await db.connect();
  });

  afterAll(async () => {
    await db?.end();
    await prober?.disconnect();
    await stack?.close();
    await receiver?.close();
  });

  it('tenant settings: severity overrides per layer, validated, monitor policy winning', async () => {
    expect((await api.get('/v1/tenant/settings')).body).toMatchObject({ tenant_id: tenantId, severity_policy: {} });
    const bad = await api.call('PATCH', '/v1/tenant/settings', { severity_policy: { tools_list: 'P9' } });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body)).toContain('severity_policy.tools_list');
    const ok = await api.call('PATCH', '/v1/tenant/settings', { severity_policy: { tools_list: 'P3', transport: 'P2' } });
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ severity_policy: { tools_list: 'P3', transport: 'P2' } });

    const byTenant = await monitor('tenant-policy');
    const byMonitor = await monitor('monitor-policy', { severity_policy: { tools_list: 'P1' } });
    const fail = (id: string) => result(id, false, { failure_layer: 'tools_list', error: 'tools/list: -32603' });
    await prober.send(fail(byTenant), fail(byTenant), fail(byTenant), fail(byMonitor), fail(byMonitor), fail(byMonitor));
    const started = await receiver.waitForEvent('downtime_started', 2);
    const bySlug = Object.fromEntries(started.map((s) => [s.body.server_slug, s.body.severity]));
    expect(bySlug).toEqual({ 'tenant-policy': 'P3', 'monitor-policy': 'P1' });
    await api.call('PATCH', '/v1/tenant/settings', { severity_policy: {} });
  });

  it('escalation: a shallower layer failing during an open incident raises its severity, one incident', async () => {
    const id = await monitor('escalating');
    const before = receiver.ofEvent('downtime_started').length;
    const deep = () => result(id, false, { failure_layer: 'initialize', error: 'unsupported protocol version' });
    await prober.send(deep(), deep(), deep());
    const [opened] = (await receiver.waitForEvent('downtime_started', before + 1)).slice(-1);
    expect(opened!.body).toMatchObject({ severity: 'P2', failure_layer: 'initialize' });
    await prober.send(result(id, false, { failure_layer: 'transport', error: 'ECONNREFUSED' }));
    const [escalated] = (await receiver.waitForEvent('downtime_started', before + 2)).slice(-1);
    expect(escalated!.body).toMatchObject({ severity: 'P1', failure_layer: 'transport', dedup_key: opened!.body.dedup_key });
    expect((await outboxAlerts(id)).at(-1)).toMatchObject({ escalated_from: 'P2', previous_failure_layer: 'initialize' });
    const incidents = await api.get<{ data: Array<{ dedup_key: string; severity: string }> }>('/v1/incidents?status=open');
    expect(incidents.body.data.filter((i) => i.dedup_key === opened!.body.dedup_key)).toEqual([
      expect.objectContaining({ severity: 'P1' }),
    ]);
    const timeline = await api.get<{ timeline: Array<{ type: string }> }>(`/v1/incidents/${String(opened!.body.dedup_key)}`);
    expect(timeline.body.timeline.map((t) => t.type)).toEqual(['IncidentOpened', 'IncidentEscalated']);
    await prober.send(result(id, true));
    const [resolved] = (await receiver.waitForEvent('downtime_resolved')).filter((r) => r.body.dedup_key === opened!.body.dedup_key);
    expect(resolved!.body).toMatchObject({ severity: 'P1' });
  });

  it('schema drift: the first tools hash is a baseline, a change is a P3 alert with the tool diff', async () => {
    const id = await monitor('drifting');
    const tools = (v: string) => [
      { name: 'search', hash: `s-${v}` },
      { name: 'fetch', hash: 'f-1' },
    ];
    await prober.send(result(id, true, { tools_hash: 'h-1', tools: tools('1') }));
    await prober.send(result(id, true, { tools_hash: 'h-2', tools: [...tools('2'), { name: 'delete', hash: 'd-1' }] }));
    const [drift] = await receiver.waitForEvent('schema_drift_detected');
    expect(drift!.body).toMatchObject({ severity: 'P3', server_slug: 'drifting' });
    expect(receiver.ofEvent('schema_drift_detected')).toHaveLength(1);
    expect((await outboxAlerts(id)).at(-1)).toMatchObject({
      event: 'schema_drift_detected',
      schema: { previous_hash: 'h-1', current_hash: 'h-2', added: ['delete'], removed: [], changed: ['search'] },
    });
  });

  it('maintenance windows suppress incidents, show in the status, and can be ended early', async () => {
    const id = await monitor('maintained');
    const bad = await api.post(`/v1/monitors/${id}/maintenance`, { ends_at: '2020-01-01T00:00:00Z' });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body)).toContain('ends_at');
    const created = await api.post<{ id: string; active: boolean }>(`/v1/monitors/${id}/maintenance`, {
      starts_at: new Date(clock - 60_000).toISOString(),
      ends_at: new Date(Date.now() + 3_600_000).toISOString(),
      reason: 'database upgrade',
    });
    expect(created.status).toBe(201);
    expect((await api.get<{ data: Array<{ id: string }> }>(`/v1/monitors/${id}/maintenance`)).body.data.map((w) => w.id)).toEqual([created.body.id]);
    const before = receiver.ofEvent('downtime_started').length;
    const inWindow = [result(id, false), result(id, false), result(id, false), result(id, false)];
    await prober.send(...inWindow);
    // The status says maintenance as soon as the window is active; the period is the
    // router's, recorded when it applies the first result inside the window.
    expect((await status(id)).status).toBe('maintenance');
    await waitFor(async () => (await status(id)).last_probe_at === inWindow.at(-1)!.observed_at, { description: 'the failures inside the window applied' });
    const { rows } = await db.query(`SELECT reason, ended_at FROM maintenance_periods WHERE monitor_id = $1`, [id]);
    expect(rows).toEqual([{ reason: 'window', ended_at: null }]);
    expect(await status(id)).toMatchObject({ status: 'maintenance', consecutive_failures: 0 });

    expect((await api.call('DELETE', `/v1/monitors/${id}/maintenance`)).status).toBe(204);
    clock = Math.max(clock, Date.now());
    await prober.send(result(id, false), result(id, false), result(id, false));
    const [started] = (await receiver.waitForEvent('downtime_started', before + 1)).slice(-1);
    expect(started!.body.server_slug).toBe('maintained');
    expect((await status(id)).status).toBe('down');
    const ended = await db.query(`SELECT ended_at FROM maintenance_periods WHERE monitor_id = $1`, [id]);
    expect(ended.rows[0].ended_at).not.toBeNull();
  });

  it('the SLA ledger matches a fixture to the second, with receiver maintenance excluded', async () => {
    const id = await monitor('ledger');
    const t0 = Date.parse('2026-05-01T00:00:00Z');
    const at = (s: number, ok: boolean, extra: Partial<ProbeResult> = {}): ProbeResult => ({
      ...result(id, ok, extra),
      observed_at: new Date(t0 + s * 1000).toISOString(),
    });
    await prober.send(
      at(0, true),
      at(60, false), // incident starts here (confirmed at 180)
      at(120, false),
      at(180, false),
      at(600, true), // resolved: 540 s down
      at(1200, true, { status: 'maintenance', source: 'receiver' }),
      at(1300, false), // an active probe fails during the receiver's maintenance: not counted
      at(1500, true, { status: 'operational', source: 'receiver' }), // 300 s of maintenance
      at(3000, false, { failure_layer: 'transport', error: 'ECONNREFUSED' }),
      at(3060, false, { failure_layer: 'transport', error: 'ECONNREFUSED' }),
      at(3120, false, { failure_layer: 'transport', error: 'ECONNREFUSED' }),
      at(3300, true), // 300 s down, 120 s of it inside the range below
    );
    await waitFor(async () => (await db.query(`SELECT 1 FROM incidents WHERE monitor_id = $1 AND status = 'resolved'`, [id])).rowCount === 2, {
      description: 'both incidents resolved',
    });
    const sla = await api.get(`/v1/monitors/${id}/sla?from=2026-05-01T00:00:00Z&to=2026-05-01T00:52:00Z`);
    expect(sla.status).toBe(200);
    expect(sla.body).toMatchObject({
      period_seconds: 3120,
      downtime_seconds: 540 + 120,
      maintenance_seconds: 300,
      availability: Math.round((1 - 660 / 2820) * 1e6) / 1e6,
    });
    expect((sla.body.incidents as Array<{ downtime_seconds: number }>).map((i) => i.downtime_seconds)).toEqual([540, 120]);
    const wrong = await api.get(`/v1/monitors/${id}/sla?from=2026-05-02T00:00:00Z&to=2026-05-01T00:00:00Z`);
    expect(wrong.status).toBe(400);
    expect(JSON.stringify(wrong.body)).toContain('from');
  });

  it('npm run rebuild-projections rebuilds the read models equal to the live ones', async () => {
    const dump = async () => ({
      incidents: (await db.query('SELECT * FROM incidents ORDER BY dedup_key')).rows,
      maintenance: (await db.query('SELECT * FROM maintenance_periods ORDER BY monitor_id, maintenance_seq')).rows,
    });
    const live = await dump();
    expect(live.incidents.length).toBeGreaterThan(4);
    await db.query('DELETE FROM incidents');
    const cli = path.resolve(__dirname, '../../apps/severity-router/dist/rebuild-projections-cli.js');
    const { stdout } = await promisify(execFile)(process.execPath, [cli], { env: { ...process.env, DATABASE_URL: stack.database.url } });
    expect(stdout).toMatch(/^rebuilt incidents, maintenance_periods from \d+ events/);
    expect(await dump()).toEqual(live);
  });
});
