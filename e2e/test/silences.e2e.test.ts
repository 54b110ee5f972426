import { WebhookReceiver, waitFor } from '@tocsin/testing';
import { ApiClient, runTocsin, startStack, type Stack } from '../src';

interface Delivery {
  id: string;
  event: string;
  status: string;
  dedup_key: string;
  attempt_count: number;
}

interface Silence {
  id: string;
  monitor_id: string | null;
  severities: string[] | null;
  active: boolean;
  comment: string | null;
}

/**
 * Silences: while one is active, the alerts it matches are recorded as skipped deliveries
 * naming it, not sent, and can be redelivered; the others page as ever. The SLA still
 * counts the silenced outage as downtime and shows how much of it was silenced.
 */
describe('silences', () => {
  let stack: Stack;
  let receiver: WebhookReceiver;
  let api: ApiClient;
  let other: ApiClient;
  let key: string;
  let endpointId: string;
  let secret: string;
  const monitors: Record<string, string> = {};

  const push = (monitor: string, ok: boolean) =>
    api.post('/v1/probe-results', { results: [{ monitor_id: monitor, ok, ...(ok ? {} : { failure_layer: 'transport', error: 'refused' }) }] });
  const outage = async (monitor: string) => {
    for (let i = 0; i < 3; i++) expect((await push(monitor, false)).status).toBe(202);
  };
  const deliveries = async () => (await api.get<{ data: Delivery[] }>(`/v1/endpoints/${endpointId}/deliveries?limit=200`)).body.data;
  const about = (slug: string) => receiver.received.filter((r) => r.body.server_slug === slug);

  beforeAll(async () => {
    receiver = await WebhookReceiver.start();
    stack = await startStack(['api', 'severity-router', 'dispatcher']);
    ({ client: api, key } = await ApiClient.tenant(stack.apiUrl, 'hushed'));
    ({ client: other } = await ApiClient.tenant(stack.apiUrl, 'neighbour'));
    const hook = await api.post<{ id: string; secret: string }>('/v1/endpoints', { name: 'pager', url: receiver.url });
    expect(hook.status).toBe(201);
    [endpointId, secret] = [hook.body.id, hook.body.secret];
    for (const slug of ['quiet', 'loud']) {
      const made = await api.post<{ id: string }>('/v1/monitors', { slug, name: slug, url: `https://${slug}.example.com/mcp` });
      expect(made.status).toBe(201);
      monitors[slug] = made.body.id;
    }
  });

  afterAll(async () => {
    await stack?.close();
    await receiver?.close();
  });

  it('refuses a silence that ends in the past, lasts too long, or names a monitor the tenant does not have, naming the field', async () => {
    const soon = new Date(Date.now() + 3_600_000).toISOString();
    const past = await api.post<{ details: Array<{ field: string }> }>('/v1/silences', { ends_at: '2020-01-01T00:00:00Z' });
    expect([past.status, [...new Set(past.body.details.map((d) => d.field))]]).toEqual([400, ['ends_at']]);
    const long = await api.post<{ message: string }>('/v1/silences', { ends_at: new Date(Date.now() + 40 * 86_400_000).toISOString() });
    expect([long.status, long.body.message]).toEqual([400, expect.stringContaining('31 days')]);
    const badSeverity = await api.post<{ details: Array<{ field: string }> }>('/v1/silences', { ends_at: soon, severities: ['P9'] });
    expect(badSeverity.status).toBe(400);
    expect(badSeverity.body.details[0]!.field).toMatch(/^severities/);
    // Another tenant's monitor is not one of this tenant's.
    expect((await other.post('/v1/silences', { ends_at: soon, monitor_id: monitors['quiet'] })).status).toBe(404);
  });

  it('records a silenced outage as skipped deliveries, pages the monitor beside it, and counts the outage as silenced downtime', async () => {
    const made = await api.post<Silence>('/v1/silences', {
      monitor_id: monitors['quiet'],
      ends_at: new Date(Date.now() + 3_600_000).toISOString(),
      comment: 'database migration',
    });
    expect(made.status).toBe(201);
    expect(made.body).toMatchObject({ monitor_id: monitors['quiet'], severities: null, active: true, comment: 'database migration' });
    const silence = made.body;
    // Another tenant neither sees it nor can end it.
    expect((await other.get(`/v1/silences/${silence.id}`)).status).toBe(404);
    expect((await other.call('DELETE', `/v1/silences/${silence.id}`)).status).toBe(404);
    expect((await other.get<{ data: unknown[] }>('/v1/silences')).body.data).toEqual([]);

    await outage(monitors['quiet']!);
    const skipped = await waitFor(
      async () => {
        const incidents = (await api.get<{ data: Array<{ monitor_id: string; dedup_key: string }> }>('/v1/incidents')).body.data;
        const key = incidents.find((i) => i.monitor_id === monitors['quiet'])?.dedup_key;
        return key !== undefined && (await deliveries()).find((d) => d.event === 'downtime_started' && d.dedup_key === key);
      },
      { description: "quiet's downtime_started recorded" },
    );
    expect([skipped.status, skipped.attempt_count]).toEqual(['skipped', 0]);
    const detail = await api.get<{ events: Array<{ type: string; data: { reason?: string } }> }>(`/v1/deliveries/${skipped.id}`);
    expect(detail.body.events.find((e) => e.type === 'Skipped')?.data.reason).toBe(`silenced by ${silence.id}`);

    await outage(monitors['loud']!);
    const [loud] = await waitFor(() => about('loud').length > 0 && about('loud'), { description: "loud's page" });
    expect(loud!.body).toMatchObject({ event: 'downtime_started', severity: 'P1' });
    expect(about('quiet')).toEqual([]);

    // Still downtime, not up: the SLA shows the silenced part of it.
    const sla = await waitFor(
      async () => {
        const s = (await api.get<{ availability: number; downtime_seconds: number; silenced_seconds: number; incidents: Array<{ silenced_seconds: number }> }>(`/v1/monitors/${monitors['quiet']}/sla`)).body;
        return s.downtime_seconds >= 2 && s;
      },
      { description: 'two seconds of downtime on the ledger' },
    );
    expect(sla.availability).toBeLessThan(1);
    expect(sla.silenced_seconds).toBeGreaterThanOrEqual(sla.downtime_seconds - 1);
    expect(sla.silenced_seconds).toBeGreaterThan(0);
    expect(sla.incidents[0]!.silenced_seconds).toBe(sla.silenced_seconds);
    const loudSla = (await api.get<{ silenced_seconds: number; downtime_seconds: number }>(`/v1/monitors/${monitors['loud']}/sla`)).body;
    expect(loudSla.silenced_seconds).toBe(0);

    // A silenced page is not lost: redelivered, it arrives signed.
    expect((await api.post(`/v1/deliveries/${skipped.id}/redeliver`, {})).status).toBe(202);
    const [redelivered] = await waitFor(() => about('quiet').length > 0 && about('quiet'), { description: 'the redelivered page' });
    expect(redelivered!.body).toMatchObject({ event: 'downtime_started', server_slug: 'quiet' });
    expect(WebhookReceiver.verify(secret, redelivered!)).toBe(true);

    // Ended early, the silence pages what comes next: the resolution arrives.
    expect((await api.call('DELETE', `/v1/silences/${silence.id}`)).status).toBe(204);
    expect((await api.get<Silence>(`/v1/silences/${silence.id}`)).body.active).toBe(false);
    expect((await api.get<{ data: Silence[] }>('/v1/silences')).body.data).toEqual([]);
    expect((await push(monitors['quiet']!, true)).status).toBe(202);
    await waitFor(() => about('quiet').some((r) => r.body.event === 'downtime_resolved'), { description: "quiet's resolution paged" });
  });

  it('creates, lists and expires a silence from the CLI', async () => {
    const env = { TOCSIN_URL: stack.apiUrl, TOCSIN_API_KEY: key };
    const made = await runTocsin(['silences', 'create', '--for', '30', '--severity', 'P3', '--comment', 'noisy drift', '--json'], env);
    expect([made.code, made.stderr]).toEqual([0, '']);
    const silence = JSON.parse(made.stdout) as Silence;
    expect(silence).toMatchObject({ monitor_id: null, severities: ['P3'], active: true, comment: 'noisy drift' });
    const listed = await runTocsin(['silences', 'list'], env);
    expect(listed.stdout).toContain(silence.id);
    const neither = await runTocsin(['silences', 'create', '--json'], env);
    expect(neither.code).not.toBe(0);
    expect(neither.stderr).toContain('--ends-at');
    expect((await runTocsin(['silences', 'expire', silence.id], env)).code).toBe(0);
    expect((await api.get<Silence>(`/v1/silences/${silence.id}`)).body.active).toBe(false);
  });
});
