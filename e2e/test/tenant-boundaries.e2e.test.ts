import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { createTocsinClient, ok, type TocsinClient } from '@tocsin/client';
import { ADMIN_TOKEN, documentedRoutes, fillPath, requiredQuery, sample, startStack, type DocumentedRoute, type Stack } from '../src';

/**
 * Every row of every table and every sequence's position, read through SQL (any server
 * version, the embedded one included, where the machine's pg_dump may be older).
 */
async function dump(databaseUrl: string): Promise<string> {
  const db = new Client({ connectionString: databaseUrl });
  await db.connect();
  try {
    const tables = await db.query<{ name: string }>(
      `SELECT table_name AS name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY 1`,
    );
    const parts: string[] = [];
    for (const { name } of tables.rows) {
      const rows = await db.query<{ row: string }>(`SELECT to_jsonb(t)::text AS row FROM "${name}" t`);
      parts.push(`-- ${name}`, ...rows.rows.map((r) => r.row).sort());
    }
    const sequences = await db.query<{ name: string; at: string | null }>(
      `SELECT sequencename AS name, last_value::text AS at FROM pg_sequences WHERE schemaname = 'public' ORDER BY 1`,
    );
    parts.push(...sequences.rows.map((r) => `-- sequence ${r.name} at ${r.at}`));
    return parts.join('\n');
  } finally {
    await db.end();
  }
}

async function tenantClient(baseUrl: string, name: string): Promise<{ api: TocsinClient; tenantId: string; keyId: string }> {
  const admin = createTocsinClient({ baseUrl, token: ADMIN_TOKEN });
  const tenant = await ok(admin.POST('/v1/tenants', { body: { name } }));
  const key = await ok(admin.POST('/v1/tenants/{id}/api-keys', { params: { path: { id: tenant.id } } }));
  return { api: createTocsinClient({ baseUrl, token: key.key }), tenantId: tenant.id, keyId: key.id };
}

describe("tenant isolation: tenant B's key against tenant A's ids on every /v1 route", () => {
  let stack: Stack;
  let b: TocsinClient;
  let bKey: string;
  /** Tenant A's resource for each first path segment (`/v1/<segment>/{id}`). */
  const fixtures: Record<string, string> = {};

  beforeAll(async () => {
    stack = await startStack(['api'], { TOCSIN_RATE_LIMIT_PER_SECOND: '0' });
    const a = await tenantClient(stack.apiUrl, 'tenant-a');
    const tenantB = await tenantClient(stack.apiUrl, 'tenant-b');
    b = tenantB.api;
    bKey = (await ok(createTocsinClient({ baseUrl: stack.apiUrl, token: ADMIN_TOKEN }).POST('/v1/tenants/{id}/api-keys', { params: { path: { id: tenantB.tenantId } } }))).key;

    const monitor = await ok(a.api.POST('/v1/monitors', { body: { slug: 'a-search', name: 'A search', url: 'https://example.com/mcp' } }));
    const endpoint = await ok(a.api.POST('/v1/endpoints', { body: { name: 'a-hook', url: 'https://example.com/hook' } }));
    fixtures['monitors'] = monitor.id;
    fixtures['endpoints'] = endpoint.id;
    fixtures['api-keys'] = a.keyId;
    const silence = await ok(a.api.POST('/v1/silences', { body: { monitor_id: monitor.id, ends_at: new Date(Date.now() + 3_600_000).toISOString() } }));
    fixtures['silences'] = silence.id;

    // Incidents and deliveries come from the router and dispatcher; the rows are seeded directly.
    const db = new Client({ connectionString: stack.database.url });
    await db.connect();
    try {
      const dedupKey = `${a.tenantId}:${monitor.id}:1`;
      await db.query(
        `INSERT INTO incidents (dedup_key, tenant_id, monitor_id, incident_seq, status, severity, failure_layer, started_at, probe_count)
         VALUES ($1, $2, $3, 1, 'open', 'P1', 'transport', now(), 3)`,
        [dedupKey, a.tenantId, monitor.id],
      );
      const deliveryId = randomUUID();
      await db.query(
        `INSERT INTO deliveries (id, tenant_id, endpoint_id, alert_event_id, event_type, dedup_key, sequence, body, status, attempts,
                                 stream_version, created_at, updated_at)
         VALUES ($1, $2, $3, $4, 'downtime_started', $5, 1, '{}', 'dead_lettered', 1, 0, now(), now())`,
        [deliveryId, a.tenantId, endpoint.id, randomUUID(), dedupKey],
      );
      fixtures['incidents'] = dedupKey;
      fixtures['deliveries'] = deliveryId;
    } finally {
      await db.end();
    }

    const routes = documentedRoutes();
    if (routes.some((r) => r.method === 'POST' && r.path === '/v1/receivers')) {
      const receivers = routes.find((r) => r.method === 'POST' && r.path === '/v1/receivers')!;
      const body = { ...(sample(receivers.body) as object), name: 'a-receiver', status_field: 'status', monitor_id: monitor.id };
      const res = await fetch(`${stack.apiUrl}/v1/receivers`, {
        method: 'POST',
        headers: { authorization: `Bearer ${(await ok(createTocsinClient({ baseUrl: stack.apiUrl, token: ADMIN_TOKEN }).POST('/v1/tenants/{id}/api-keys', { params: { path: { id: a.tenantId } } }))).key}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      const created = (await res.json()) as { id?: string };
      if (created.id) fixtures['receivers'] = created.id;
    }
  });

  afterAll(async () => {
    await stack?.close();
  });

  const tenantRoutes = () => documentedRoutes().filter((r) => r.auth === 'tenant');

  /** Bodies the schema's minimal sample does not satisfy (a rule beyond the schema). */
  const BODIES: Record<string, unknown> = {
    'POST /v1/monitors/{id}/maintenance': { ends_at: new Date(Date.now() + 3_600_000).toISOString(), reason: 'isolation' },
    'POST /v1/endpoints/{id}/replay': { from: new Date(Date.now() - 3_600_000).toISOString(), to: new Date().toISOString(), dry_run: false },
  };

  const call = (route: DocumentedRoute, path: string) =>
    fetch(`${stack.apiUrl}${path}${requiredQuery(route)}`, {
      method: route.method,
      headers: { authorization: `Bearer ${bKey}`, ...(route.body ? { 'content-type': 'application/json' } : {}) },
      ...(route.body ? { body: JSON.stringify(BODIES[`${route.method} ${route.path}`] ?? sample(route.body)) } : {}),
    });

  it('answers 404 on every route that names one of A\'s resources, and changes nothing in the database', async () => {
    const before = await dump(stack.database.url);
    const answers: string[] = [];
    const expected: string[] = [];
    for (const route of tenantRoutes().filter((r) => r.pathParams.length > 0)) {
      const segment = route.path.split('/')[2]!;
      const owned = fixtures[segment];
      if (!owned) throw new Error(`no tenant-A fixture for /v1/${segment}: add one in tenant-boundaries.e2e.test.ts`);
      const [first, ...rest] = route.pathParams;
      const path = fillPath(route.path, { [first!]: owned, ...Object.fromEntries(rest.map((p) => [p, randomUUID()])) });
      const res = await call(route, path);
      const body = (await res.json().catch(() => ({}))) as { message?: string };
      answers.push(`${route.method} ${route.path} → ${res.status} ${body.message ?? ''}`);
      expected.push(`${route.method} ${route.path} → 404`);
    }
    expect(answers.map((a) => a.replace(/ → (\d+).*/, ' → $1'))).toEqual(expected);
    expect(answers.length).toBeGreaterThanOrEqual(10);
    expect(await dump(stack.database.url)).toBe(before);
  });

  it("lists none of A's resources in B's lists", async () => {
    const lists = tenantRoutes().filter((r) => r.method === 'GET' && r.pathParams.length === 0);
    expect(lists.length).toBeGreaterThanOrEqual(4);
    for (const route of lists) {
      const res = await call(route, route.path);
      expect([route.path, res.status]).toEqual([route.path, 200]);
      const text = await res.text();
      for (const owned of Object.values(fixtures)) expect([route.path, text.includes(owned)]).toEqual([route.path, false]);
    }
  });

  it("refuses B's probe results for A's monitor", async () => {
    const res = await b.POST('/v1/probe-results', { body: { results: [{ monitor_id: fixtures['monitors']!, ok: true }] } });
    // Refused outright, or accepted as a batch with this item rejected: never accepted.
    if (res.response.status === 202) expect(res.data).toMatchObject({ accepted: 0 });
    else expect([res.response.status >= 400, res.response.status < 500]).toEqual([true, true]);
  });
});
