import { WebhookReceiver, waitFor } from '@tocsin/testing';
import { ApiClient, startStack, type Stack } from '../src';

interface Delivery {
  id: string;
  event: string;
  status: string;
  dedup_key: string;
}

/**
 * Inhibition by host: with `inhibit_by_host` on, the first transport outage of a host pages
 * and the other monitors' incidents on that host, while it is open, are recorded as skipped
 * deliveries naming it. A tenant that did not turn it on is paged for each.
 */
describe('inhibition by host', () => {
  let stack: Stack;
  let receiver: WebhookReceiver;
  const tenants: Record<string, string> = {};

  const setUp = async (name: string, inhibit: boolean, hosts: Record<string, string>) => {
    const { client, tenantId } = await ApiClient.tenant(stack.apiUrl, name);
    tenants[name] = tenantId;
    if (inhibit) {
      const set = await client.call<{ inhibit_by_host: boolean; severity_policy: object }>('PATCH', '/v1/tenant/settings', { inhibit_by_host: true });
      expect([set.status, set.body.inhibit_by_host, set.body.severity_policy]).toEqual([200, true, {}]);
    }
    const hook = await client.post<{ id: string }>('/v1/endpoints', { name: `${name}-pager`, url: receiver.url });
    expect(hook.status).toBe(201);
    const ids: Record<string, string> = {};
    for (const [slug, url] of Object.entries(hosts)) {
      const made = await client.post<{ id: string }>('/v1/monitors', { slug, name: slug, url });
      expect(made.status).toBe(201);
      ids[slug] = made.body.id;
    }
    return { client, endpointId: hook.body.id, ids };
  };
  const pushAll = async (client: ApiClient, ids: readonly string[], ok: boolean, times: number) => {
    for (let i = 0; i < times; i++) {
      const results = ids.map((monitor_id) => ({ monitor_id, ok, ...(ok ? {} : { failure_layer: 'transport', error: 'connect ECONNREFUSED' }) }));
      expect((await client.post('/v1/probe-results', { results })).status).toBe(202);
    }
  };
  const deliveriesOf = async (client: ApiClient, endpointId: string, event: string, count: number) =>
    waitFor(
      async () => {
        const all = (await client.get<{ data: Delivery[] }>(`/v1/endpoints/${endpointId}/deliveries?limit=200`)).body.data.filter((d) => d.event === event);
        return all.length >= count && all;
      },
      { description: `${count} ${event} deliveries recorded` },
    );
  const received = (tenant: string, event: string) => receiver.received.filter((r) => r.body.tenant_id === tenants[tenant] && r.body.event === event);

  beforeAll(async () => {
    receiver = await WebhookReceiver.start();
    stack = await startStack(['api', 'severity-router', 'dispatcher']);
  });

  afterAll(async () => {
    await stack?.close();
    await receiver?.close();
  });

  it('pages once per endpoint when five monitors on one host go down, and once when they come back', async () => {
    const hosts = Object.fromEntries(Array.from({ length: 5 }, (_, i) => [`db-${i}`, `https://db.example.com:${8000 + i}/mcp`]));
    const { client, endpointId, ids } = await setUp('inhibited', true, { ...hosts, elsewhere: 'https://api.example.com/mcp' });
    const sameHost = Object.keys(hosts).map((slug) => ids[slug]!);
    // The first monitor's outage opens first; the other four follow while it is open.
    await pushAll(client, [sameHost[0]!], false, 3);
    await waitFor(() => received('inhibited', 'downtime_started').length === 1, { description: 'the first page' });
    await pushAll(client, [...sameHost.slice(1), ids['elsewhere']!], false, 3);

    const started = await deliveriesOf(client, endpointId, 'downtime_started', 6);
    const incidents = (await client.get<{ data: Array<{ monitor_id: string; dedup_key: string }> }>('/v1/incidents')).body.data;
    const keyOf = (id: string) => incidents.find((i) => i.monitor_id === id)!.dedup_key;
    const first = keyOf(sameHost[0]!);
    for (const id of sameHost.slice(1)) {
      const d = started.find((x) => x.dedup_key === keyOf(id))!;
      expect(d.status).toBe('skipped');
      const detail = await client.get<{ events: Array<{ type: string; data: { reason?: string } }> }>(`/v1/deliveries/${d.id}`);
      expect(detail.body.events.find((e) => e.type === 'Skipped')?.data.reason).toBe(`inhibited by ${first}`);
    }
    // Another host is not inhibited.
    await waitFor(() => received('inhibited', 'downtime_started').length === 2, { description: "the other host's page" });
    expect(received('inhibited', 'downtime_started').map((r) => r.body.server_slug).sort()).toEqual(['db-0', 'elsewhere']);

    await pushAll(client, [...sameHost, ids['elsewhere']!], true, 1);
    const resolved = await deliveriesOf(client, endpointId, 'downtime_resolved', 6);
    expect(resolved.filter((d) => d.status === 'skipped')).toHaveLength(4);
    await waitFor(() => received('inhibited', 'downtime_resolved').length === 2, { description: 'two resolutions' });
    expect(received('inhibited', 'downtime_resolved').map((r) => r.body.server_slug).sort()).toEqual(['db-0', 'elsewhere']);

    // The claim ended with its incident: the host's next outage pages again.
    await pushAll(client, [sameHost[3]!], false, 3);
    await waitFor(() => received('inhibited', 'downtime_started').some((r) => r.body.server_slug === 'db-3'), { description: "db-3's own page" });
  });

  it('pages for each monitor of a tenant that did not turn inhibition on', async () => {
    const { client, ids } = await setUp('plain', false, { 'web-0': 'https://web.example.com/a', 'web-1': 'https://web.example.com/b' });
    await pushAll(client, Object.values(ids), false, 3);
    await waitFor(() => received('plain', 'downtime_started').length === 2, { description: 'both pages' });
  });
});
