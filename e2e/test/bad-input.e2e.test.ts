import { createTocsinClient, ok } from '@tocsin/client';
import { ADMIN_TOKEN, bodyFields, documentedRoutes, fillPath, sample, startStack, type DocumentedRoute, type Stack } from '../src';

interface Case {
  readonly name: string;
  readonly path?: string;
  readonly query?: string;
  readonly body?: string;
  readonly contentType?: string;
}

const LONG = 'a'.repeat(100_000);
const SQL = ["'; DROP TABLE monitors; --", "1' OR '1'='1", 'x" OR 1=1 --', '$1); SELECT pg_sleep(5); --'];
const UNICODE = ['\u0000', 'a\u0000b', '\ud800', '\udfff', '\u202e\u0631\u0644', '\uffff', '😀'.repeat(1000), '\u00e9\u0301', ' '];
const BAD_IDS = ['not-a-uuid', '123', "1' OR '1'='1", '..%2F..%2Fetc', '%00', '00000000-0000-0000-0000-00000000000g', 'x'.repeat(5_000), '%E2%80%AE', '{id}'];

function nested(depth: number): string {
  return `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
}

function replace(body: unknown, field: string, value: unknown): string {
  return JSON.stringify({ ...(body as object), [field]: value });
}

/** The corpus for one route: bodies, ids and queries a careless or hostile caller sends. */
function casesFor(route: DocumentedRoute, valid: Record<string, string>): Case[] {
  const cases: Case[] = [];
  const goodPath = fillPath(route.path, valid);
  for (const id of BAD_IDS) {
    if (route.pathParams.length) cases.push({ name: `path id ${id.slice(0, 20)}`, path: route.path.replace(/\{\w+\}/, id) });
  }
  // DELETE with a good id would remove the fixture the later routes need; its bad ids are above.
  if (route.method === 'DELETE') return cases;
  for (const { name } of route.queryParams) {
    for (const value of ['-1', 'abc', '1e309', LONG.slice(0, 5_000), '%00', "'; DROP TABLE x; --", '[]']) {
      cases.push({ name: `query ${name}=${value.slice(0, 20)}`, path: goodPath, query: `${name}=${encodeURIComponent(value)}` });
    }
    cases.push({ name: `query ${name} repeated`, path: goodPath, query: `${name}=1&${name}=2` });
  }
  cases.push({ name: 'unknown query parameter', path: goodPath, query: 'zzz_unknown=1' });
  if (!['POST', 'PUT', 'PATCH'].includes(route.method)) return cases;

  const good = sample(route.body) ?? {};
  const raw = (name: string, body: string, contentType = 'application/json') => cases.push({ name, path: goodPath, body, contentType });
  for (const text of ['{"a":', '[', 'nul', '{"a":1}}', '"just a string"', '42', 'null', '[]', '{,}', '\u0000', '{"a":"\\ud800"}']) {
    raw(`malformed ${JSON.stringify(text).slice(0, 20)}`, text);
  }
  raw('empty object', '{}');
  raw('unknown field', JSON.stringify({ ...(good as object), zzz_unknown: 1 }));
  raw('__proto__ key', `{"__proto__":{"admin":true},${JSON.stringify(good).slice(1)}`.replace(',}', '}'));
  raw('constructor key', JSON.stringify({ ...(good as object), constructor: { prototype: { admin: true } } }));
  raw('deep nesting', nested(5_000));
  raw('huge array', JSON.stringify(Array(100_000).fill(1)));
  raw('oversized body', JSON.stringify({ pad: 'a'.repeat(2 * 1024 * 1024) }));
  raw('form encoded', 'name=x', 'application/x-www-form-urlencoded');
  raw('text body', 'hello', 'text/plain');
  for (const field of bodyFields(route.body)) {
    for (const [kind, value] of [
      ['number', 12345],
      ['string', 'zzz'],
      ['boolean', true],
      ['null', null],
      ['object', { a: 1 }],
      ['array', [1, 2]],
      ['long string', LONG],
      ['huge array', Array(100_000).fill('a')],
      ['deep object', JSON.parse(nested(500))],
    ] as const) {
      raw(`${field} as ${kind}`, replace(good, field, value));
    }
    for (const s of [...SQL, ...UNICODE]) raw(`${field} = ${JSON.stringify(s).slice(0, 16)}`, replace(good, field, s));
    const { [field]: _dropped, ...missing } = good as Record<string, unknown>;
    raw(`${field} missing`, JSON.stringify(missing));
  }
  return cases;
}

describe('the bad-input corpus over every /v1 route: no 5xx, every refusal says what was wrong', () => {
  let stack: Stack;
  let key: string;
  const valid: Record<string, string> = {};

  beforeAll(async () => {
    stack = await startStack(['api'], { TOCSIN_RATE_LIMIT_PER_SECOND: '0' });
    const admin = createTocsinClient({ baseUrl: stack.apiUrl, token: ADMIN_TOKEN });
    const tenant = await ok(admin.POST('/v1/tenants', { body: { name: 'corpus' } }));
    const issued = await ok(admin.POST('/v1/tenants/{id}/api-keys', { params: { path: { id: tenant.id } } }));
    key = issued.key;
    const api = createTocsinClient({ baseUrl: stack.apiUrl, token: key });
    const monitor = await ok(api.POST('/v1/monitors', { body: { slug: 'corpus', name: 'Corpus', url: 'https://example.com/mcp' } }));
    const endpoint = await ok(api.POST('/v1/endpoints', { body: { name: 'corpus', url: 'https://example.com/hook' } }));
    Object.assign(valid, { id: monitor.id, monitorId: monitor.id, endpointId: endpoint.id, dedupKey: 'no-such-incident', token: 'x'.repeat(64) });
    // Route-specific ids: a route under /v1/endpoints gets the endpoint, under /v1/api-keys the key.
    valid.endpoints = endpoint.id;
    valid['api-keys'] = issued.id;
    valid.tenants = tenant.id;
  });

  afterAll(async () => {
    await stack?.close();
  });

  it('answers every case with a 2xx or a JSON 4xx naming the problem', async () => {
    const failures: string[] = [];
    let sent = 0;
    for (const route of documentedRoutes()) {
      const segment = route.path.split('/')[2]!;
      const ids = { ...valid, ...(valid[segment] ? { id: valid[segment]! } : {}) };
      const token = route.auth === 'admin' ? ADMIN_TOKEN : key;
      for (const c of casesFor(route, ids)) {
        const url = `${stack.apiUrl}${c.path ?? fillPath(route.path, ids)}${c.query ? `?${c.query}` : ''}`;
        const res = await fetch(url, {
          method: route.method,
          headers: { authorization: `Bearer ${token}`, ...(c.contentType ? { 'content-type': c.contentType } : {}) },
          ...(c.body !== undefined ? { body: c.body } : {}),
        });
        sent += 1;
        const text = await res.text();
        const where = `${route.method} ${route.path} [${c.name}] → ${res.status}`;
        if (res.status >= 500) {
          failures.push(`${where}: ${text.slice(0, 200)}`);
          continue;
        }
        if (res.status < 400) continue;
        let body: { statusCode?: number; message?: unknown } = {};
        try {
          body = JSON.parse(text);
        } catch {
          failures.push(`${where}: not JSON: ${text.slice(0, 100)}`);
          continue;
        }
        if (body.statusCode !== res.status || typeof body.message !== 'string' || body.message.length < 5) {
          failures.push(`${where}: no clear message: ${text.slice(0, 200)}`);
        }
      }
    }
    expect(failures).toEqual([]);
    expect(sent).toBeGreaterThan(500);
  }, 600_000);
});
