import { ApiClient, ADMIN_TOKEN, startStack, type Stack } from '../src';

describe('the API refuses bad input with clear errors', () => {
  let stack: Stack;
  let api: ApiClient;

  beforeAll(async () => {
    stack = await startStack(['api'], { TOCSIN_ALLOW_PRIVATE_URLS: 'false', TOCSIN_MIN_INTERVAL_SECONDS: '30' });
    ({ client: api } = await ApiClient.tenant(stack.apiUrl, 'acme'));
  });

  afterAll(async () => {
    await stack?.close();
  });

  it('names each invalid monitor field', async () => {
    const res = await api.post('/v1/monitors', { slug: 'Bad Slug', name: '', url: 'ftp://x', confirm_after: 0 });
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ statusCode: 400, error: 'Bad Request' });
    const fields = (res.body.details as Array<{ field: string }>).map((d) => d.field).sort();
    expect(fields).toEqual(['confirm_after', 'name', 'slug', 'url']);
    expect(res.body.message).toContain('slug');
  });

  it('refuses unknown fields instead of dropping them', async () => {
    const res = await api.post('/v1/monitors', { slug: 'a', name: 'a', url: 'https://example.com/mcp', colour: 'red' });
    expect(res.status).toBe(400);
    expect(res.body.message).toContain('colour');
  });

  it('applies the deployment minimum interval and the private-address guard', async () => {
    const tooFast = await api.post('/v1/monitors', { slug: 'a', name: 'a', url: 'https://example.com/mcp', interval_seconds: 5 });
    expect(tooFast).toMatchObject({ status: 400, body: { details: [{ field: 'interval_seconds' }] } });
    const loopback = await api.post('/v1/endpoints', { name: 'x', url: 'http://127.0.0.1:9/hook' });
    expect(loopback).toMatchObject({ status: 400, body: { details: [{ field: 'url' }] } });
  });

  it('answers malformed JSON with 400, not 500', async () => {
    const res = await fetch(`${stack.apiUrl}/v1/monitors`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: '{"slug":',
    });
    expect(res.status).toBe(400);
  });

  it('rejects missing or wrong credentials with 401', async () => {
    expect((await new ApiClient(stack.apiUrl, 'tsk_nope').get('/v1/monitors')).status).toBe(401);
    expect((await api.post('/v1/tenants', { name: 'sneaky' })).status).toBe(401);
  });

  it('creates a monitor with defaults and conflicts on a duplicate slug', async () => {
    const body = { slug: 'search', name: 'Search', url: 'https://example.com/mcp' };
    const created = await api.post('/v1/monitors', body);
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ kind: 'mcp', interval_seconds: 60, confirm_after: 3, recover_after: 1 });
    expect((await api.post('/v1/monitors', body)).status).toBe(409);
  });

  it('pages lists with next_cursor', async () => {
    for (const slug of ['p1', 'p2', 'p3']) {
      await api.post('/v1/monitors', { slug, name: slug, url: 'https://example.com/mcp' });
    }
    const first = await api.get<{ data: Array<{ slug: string }>; next_cursor: string }>('/v1/monitors?limit=2');
    expect(first.body.data).toHaveLength(2);
    const second = await api.get<{ data: Array<{ slug: string }>; next_cursor: string | null }>(
      `/v1/monitors?limit=2&cursor=${first.body.next_cursor}`,
    );
    const slugs = [...first.body.data, ...second.body.data].map((m) => m.slug);
    expect(new Set(slugs).size).toBe(slugs.length);
    expect((await api.get('/v1/monitors?cursor=garbage')).status).toBe(400);
  });

  it('serves its OpenAPI document with the monitor body schema', async () => {
    const res = await fetch(`${stack.apiUrl}/docs-json`);
    expect(res.status).toBe(200);
    const doc = (await res.json()) as { paths: Record<string, Record<string, { requestBody?: { content: Record<string, { schema: { properties: object } }> } }>> };
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/v1/monitors', '/v1/endpoints', '/v1/incidents', '/v1/tenants']));
    const body = doc.paths['/v1/monitors']!.post!.requestBody!.content['application/json']!.schema;
    expect(Object.keys(body.properties)).toEqual(expect.arrayContaining(['slug', 'url', 'interval_seconds', 'confirm_after']));
  });
});
