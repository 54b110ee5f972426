import { ADMIN_TOKEN, ApiClient, startStack, type Stack } from '../src';

interface Usage {
  limit: number;
  used: number;
  source: string;
}
interface Tenant {
  quotas: { monitors: Usage; endpoints: Usage; receivers: Usage; requests_per_second_per_key: { limit: number }; pushed_results_per_second: { limit: number } };
}

/**
 * Quotas: a tenant holds at most its quota of monitors, endpoints and receivers (its own,
 * set by the operator, or the deployment's TOCSIN_QUOTA_*); the create past it is refused
 * with a 409 naming the limit, counted in metrics, and another tenant is not affected.
 */
describe('tenant quotas', () => {
  let stack: Stack;
  let admin: ApiClient;
  let small: ApiClient;
  let other: ApiClient;
  let smallId: string;

  beforeAll(async () => {
    // The router creates the topics a push goes to.
    stack = await startStack(['api', 'severity-router'], { TOCSIN_QUOTA_RECEIVERS: '1', TOCSIN_QUOTA_PUSHED_RESULTS_PER_SECOND: '20' });
    admin = new ApiClient(stack.apiUrl, ADMIN_TOKEN);
    ({ client: small, tenantId: smallId } = await ApiClient.tenant(stack.apiUrl, 'small'));
    ({ client: other } = await ApiClient.tenant(stack.apiUrl, 'other'));
  });

  afterAll(async () => {
    await stack?.close();
  });

  const endpoint = (api: ApiClient, name: string) => api.post<{ id: string }>('/v1/endpoints', { name, url: 'https://hooks.example.com/t' });
  const monitor = (api: ApiClient, slug: string) => api.post<{ id: string }>('/v1/monitors', { slug, name: slug, url: `https://${slug}.example.com/mcp` });

  it('refuses the create past the tenant’s own quota, naming it, and shows what the tenant holds', async () => {
    const set = await admin.call('PATCH', `/v1/tenants/${smallId}/quotas`, { endpoints: 2, monitors: 1 });
    expect([set.status, set.body]).toEqual([200, expect.objectContaining({ quotas: { endpoints: 2, monitors: 1 } })]);
    expect((await endpoint(small, 'a')).status).toBe(201);
    const second = await endpoint(small, 'b');
    expect(second.status).toBe(201);
    const third = await endpoint(small, 'c');
    expect(third.status).toBe(409);
    expect(JSON.stringify(third.body)).toContain('quotas.endpoints');
    expect(JSON.stringify(third.body)).toContain('2 of the 2');
    expect((await monitor(small, 'one')).status).toBe(201);
    expect((await monitor(small, 'two')).status).toBe(409);
    // The deployment's default: one receiver a tenant.
    const first = await small.post('/v1/receivers', { name: 'r1', status_field: 'status', service_field: 'service' });
    expect([first.status, first.body]).toEqual([201, expect.anything()]);
    const receiver = await small.post('/v1/receivers', { name: 'r2', status_field: 'status', service_field: 'service' });
    expect([receiver.status, JSON.stringify(receiver.body)]).toEqual([409, expect.stringContaining('TOCSIN_QUOTA_RECEIVERS')]);

    const shown = (await small.get<Tenant>('/v1/tenant')).body.quotas;
    expect(shown.endpoints).toEqual({ limit: 2, used: 2, source: 'tenant' });
    expect(shown.monitors).toEqual({ limit: 1, used: 1, source: 'tenant' });
    expect(shown.receivers).toEqual({ limit: 1, used: 1, source: 'default' });
    expect(shown.requests_per_second_per_key.limit).toBeGreaterThan(0);

    // Deleting one frees its place.
    expect((await small.call('DELETE', `/v1/endpoints/${second.body.id}`)).status).toBe(204);
    expect((await endpoint(small, 'c')).status).toBe(201);
  });

  it('leaves another tenant to its own limits', async () => {
    for (const name of ['x', 'y', 'z']) expect((await endpoint(other, name)).status).toBe(201);
    expect((await monitor(other, 'two')).status).toBe(201);
    expect((await other.get<Tenant>('/v1/tenant')).body.quotas.endpoints).toMatchObject({ used: 3, source: 'default' });
  });

  it('returns a tenant to the default when its own limit is cleared, and counts every refusal', async () => {
    await admin.call('PATCH', `/v1/tenants/${smallId}/quotas`, { monitors: null });
    expect((await monitor(small, 'two')).status).toBe(201);
    const bad = await admin.call('PATCH', `/v1/tenants/${smallId}/quotas`, { monitors: -1, widgets: 3 });
    expect(bad.status).toBe(400);
    const url = (await stack.apps.get('api')!.getUrl()).replace('[::1]', '127.0.0.1');
    const metrics = await (await fetch(`${url}/metrics`)).text();
    const count = (resource: string) => Number(new RegExp(`tocsin_quota_refusals_total\\{resource="${resource}"\\} (\\d+)`).exec(metrics)?.[1]);
    expect([count('endpoints'), count('monitors'), count('receivers')]).toEqual([1, 1, 1]);
  });

  it('refuses a tenant’s push past its results-a-second quota whole, naming it, while another tenant pushes on', async () => {
    const push = (api: ApiClient, slug: string, n: number) =>
      api.post<{ accepted: number }>('/v1/probe-results', { results: Array.from({ length: n }, () => ({ monitor_id: slug, ok: true })) });
    expect((await small.get<Tenant>('/v1/tenant')).body.quotas.pushed_results_per_second).toEqual({ limit: 20 });
    // A whole request's worth at once (the burst is never below one request), then the average.
    const first = await push(small, 'one', 1000);
    expect([first.status, first.body.accepted]).toEqual([202, 1000]);
    const over = await push(small, 'one', 100);
    expect(over.status).toBe(429);
    expect(JSON.stringify(over.body)).toContain('quotas.pushed_results_per_second');
    expect(JSON.stringify(over.body)).toContain('none queued');
    expect(Number(over.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    // The other tenant has its own bucket: its push of the same size goes through now.
    const theirs = await push(other, 'two', 1000);
    expect([theirs.status, theirs.body.accepted]).toEqual([202, 1000]);
    const url = (await stack.apps.get('api')!.getUrl()).replace('[::1]', '127.0.0.1');
    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(Number(/tocsin_pushed_results_total\{outcome="over_quota"\} (\d+)/.exec(metrics)?.[1])).toBe(100);
  });
});
