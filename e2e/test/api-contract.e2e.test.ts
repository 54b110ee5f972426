import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { INestApplication } from '@nestjs/common';
import { createTocsinClient, ok, type TocsinClient } from '@tocsin/client';
import { ApiClient, ADMIN_TOKEN, startStack, type Stack } from '../src';

interface RouteLayer {
  route?: { path: string; methods: Record<string, boolean> };
}

/** `METHOD /path` of every route Express actually serves, with `:id` written `{id}` as OpenAPI does. */
function servedRoutes(app: INestApplication): string[] {
  const express = app.getHttpAdapter().getInstance() as { router: { stack: RouteLayer[] } };
  return express.router.stack
    .filter((layer) => layer.route)
    .flatMap((layer) =>
      Object.keys(layer.route!.methods)
        .filter((m) => m !== '_all')
        .map((m) => `${m.toUpperCase()} ${layer.route!.path.replace(/:(\w+)/g, '{$1}')}`),
    )
    // /docs is Swagger UI's own page; /{*path} is the not-found fallback, not a route.
    .filter((route) => !/ \/docs/.test(route) && !route.includes('*'));
}

const documented = (doc: { paths: Record<string, Record<string, unknown>> }) =>
  Object.entries(doc.paths).flatMap(([path, item]) => Object.keys(item).map((m) => `${m.toUpperCase()} ${path}`));

describe('the API contract: OpenAPI, route table, tenancy and refusals', () => {
  let stack: Stack;
  let api: TocsinClient;
  let tenantId: string;

  beforeAll(async () => {
    stack = await startStack(['api']);
    const tenant = await ApiClient.tenant(stack.apiUrl, 'contract');
    tenantId = tenant.tenantId;
    const key = await createTocsinClient({ baseUrl: stack.apiUrl, token: ADMIN_TOKEN }).POST('/v1/tenants/{id}/api-keys', {
      params: { path: { id: tenantId } },
    });
    api = createTocsinClient({ baseUrl: stack.apiUrl, token: key.data!.key });
  });

  afterAll(async () => {
    await stack?.close();
  });

  it('serves at /docs-json the document checked in as docs/openapi.json', async () => {
    const served = await (await fetch(`${stack.apiUrl}/docs-json`)).json();
    const checkedIn = JSON.parse(readFileSync(resolve(__dirname, '../../docs/openapi.json'), 'utf8'));
    expect(served).toEqual(checkedIn);
    expect((await fetch(`${stack.apiUrl}/docs`)).status).toBe(200);
  });

  it('documents exactly the routes the router serves', async () => {
    const checkedIn = JSON.parse(readFileSync(resolve(__dirname, '../../docs/openapi.json'), 'utf8'));
    const served = servedRoutes(stack.apps.get('api')!);
    expect(served.length).toBeGreaterThan(10);
    expect(documented(checkedIn).sort()).toEqual([...new Set(served)].sort());
  });

  it('answers every resource with its tenant_id, through the typed client', async () => {
    const monitor = await ok(api.POST('/v1/monitors', { body: { slug: 'contract', name: 'Contract', url: 'https://example.com/mcp' } }));
    expect(monitor.tenant_id).toBe(tenantId);
    const list = await ok(api.GET('/v1/monitors', { params: { query: { limit: 5 } } }));
    expect(list.data.map((m) => m.tenant_id)).toEqual([tenantId]);
    const status = await ok(api.GET('/v1/monitors/{id}/status', { params: { path: { id: monitor.id } } }));
    expect(status.tenant_id).toBe(tenantId);
    const endpoint = await ok(api.POST('/v1/endpoints', { body: { name: 'hook', url: 'http://127.0.0.1:9/hook' } }));
    expect(endpoint.tenant_id).toBe(tenantId);
  });

  it('answers a body over the 1 MiB limit with a JSON 413, not 500', async () => {
    const results = Array.from({ length: 5_000 }, (_, i) => ({ monitor_id: `m-${i}`, ok: true, error: 'x'.repeat(200) }));
    const res = await fetch(`${stack.apiUrl}/v1/probe-results`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ results }),
    });
    expect(res.status).toBe(413);
    expect(await res.json()).toMatchObject({ statusCode: 413, error: 'Payload Too Large', message: expect.stringContaining('limit') });
  });

  it('answers a body that is not JSON with a JSON 415 naming the type', async () => {
    const res = await fetch(`${stack.apiUrl}/v1/monitors`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'text/plain' },
      body: 'slug=x',
    });
    expect(res.status).toBe(415);
    expect(await res.json()).toMatchObject({ statusCode: 415, error: 'Unsupported Media Type', message: expect.stringContaining('text/plain') });
  });

  it('answers an unknown route with a JSON 404', async () => {
    const res = await fetch(`${stack.apiUrl}/v1/nothing-here`);
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ statusCode: 404, error: 'Not Found' });
  });
});
