import { WebhookReceiver, waitFor } from '@tocsin/testing';
import { ApiClient, startStack, type Stack } from '../src';

/**
 * DESIGN §6: a receiver's `maintenance` status suppresses incidents for its monitor until
 * another status arrives. Failed probes pushed meanwhile open nothing; after the next
 * status the same failures do, which shows the silence came from maintenance.
 */
describe('maintenance from a receiver', () => {
  let stack: Stack;
  let pager: WebhookReceiver;
  let api: ApiClient;

  const hook = async (url: string, body: unknown) => {
    const res = await fetch(`${stack.apiUrl}${url}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };

  beforeAll(async () => {
    [stack, pager] = await Promise.all([startStack(['api', 'severity-router', 'dispatcher']), WebhookReceiver.start()]);
    ({ client: api } = await ApiClient.tenant(stack.apiUrl, 'acme'));
    expect((await api.post('/v1/endpoints', { name: 'pager', url: pager.url })).status).toBe(201);
  });

  afterAll(async () => {
    await stack?.close();
    await pager?.close();
  });

  it('opens no incident during maintenance, and one once another status ends it', async () => {
    const monitor = await api.post<{ id: string }>('/v1/monitors', {
      slug: 'checkout',
      name: 'Checkout',
      url: 'https://checkout.example.com/mcp',
      confirm_after: 2,
    });
    const monitorId = monitor.body.id;
    const created = await api.post<{ url: string }>('/v1/receivers', { name: 'deploys', monitor_id: monitorId, status_field: 'state' });
    expect(created.status).toBe(201);
    const maintenance = await hook(created.body.url, { state: 'under_maintenance' });
    expect(maintenance.body).toMatchObject({ result: 'processed', mapped_status: 'maintenance' });

    const failures = async (count: number) => {
      let observedAt = '';
      for (let i = 0; i < count; i++) {
        observedAt = new Date().toISOString();
        const res = await api.post('/v1/probe-results', {
          results: [{ monitor_id: monitorId, ok: false, failure_layer: 'transport', error: 'connection refused', observed_at: observedAt }],
        });
        expect(res.status).toBe(202);
      }
      // The router has folded in the last one once the monitor's snapshot shows it.
      await waitFor(
        async () => {
          const res = await api.get<{ last_probe_at: string | null }>(`/v1/monitors/${monitorId}/status`);
          return res.body.last_probe_at !== null && Date.parse(res.body.last_probe_at) >= Date.parse(observedAt);
        },
        { description: 'the router to record the pushed failures' },
      );
    };

    await failures(4);
    const during = await api.get<{ open_incident: unknown }>(`/v1/monitors/${monitorId}/status`);
    expect(during.body.open_incident).toBeNull();
    const open = await api.get<{ data: unknown[] }>('/v1/incidents?status=open');
    expect(open.body.data).toEqual([]);

    expect((await hook(created.body.url, { state: 'operational' })).body).toMatchObject({ result: 'processed', mapped_status: 'operational' });
    await failures(2);
    const incident = await waitFor(
      async () => (await api.get<{ open_incident: { failure_layer: string } | null }>(`/v1/monitors/${monitorId}/status`)).body.open_incident ?? undefined,
      { description: 'an incident once maintenance ended' },
    );
    expect(incident.failure_layer).toBe('transport');
    const [started] = await pager.waitForEvent('downtime_started');
    expect(started!.body).toMatchObject({ server_slug: 'checkout', failure_layer: 'transport' });
    expect(pager.ofEvent('downtime_started')).toHaveLength(1);
  });
});
