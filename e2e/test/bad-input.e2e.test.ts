import { createTocsinClient, ok } from '@tocsin/client';
import type { ProbeResult } from '@tocsin/contracts';
import { waitFor } from '@tocsin/testing';
import {
  ADMIN_TOKEN,
  bodyFields,
  documentedRoutes,
  fillPath,
  ProbeResultTap,
  sample,
  startStack,
  type DocumentedRoute,
  type JsonSchema,
  type Stack,
} from '../src';

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
/** Times past the default 5-minute skew, up to the last instant a JS Date holds and one past it. */
const FUTURE = ['2099-01-01T00:00:00.000Z', '9999-12-31T23:59:59Z', '+275760-09-13T00:00:00.000Z', '+275760-09-13T00:00:00.001Z', '8640000000000001'];
/** Lone surrogates and cut code points as they reach a URL: UTF-8 forms no valid text has. */
const RAW_BAD_TEXT = ['%ED%A0%80', '%ED%BF%BF', '%F0%9F%98', '%C0%80', '%FF'];
const BAD_IDS = ['not-a-uuid', '123', "1' OR '1'='1", '..%2F..%2Fetc', '%00', '00000000-0000-0000-0000-00000000000g', 'x'.repeat(5_000), '%E2%80%AE', '{id}'];

function nested(depth: number): string {
  return `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
}

function nestedArray(depth: number): string {
  return `${'['.repeat(depth)}${']'.repeat(depth)}`;
}

/** Arrays nested and wide: a million cells at most, under the 1 MiB body limit once each is one digit. */
const OVERSIZED_ARRAYS: ReadonlyArray<readonly [string, () => unknown]> = [
  ['nested arrays', () => JSON.parse(nestedArray(2_000))],
  ['array of arrays', () => Array.from({ length: 500 }, () => Array(400).fill(0))],
  ['array of objects', () => Array.from({ length: 20_000 }, (_, i) => ({ name: `t${i}` }))],
];

function replace(body: unknown, field: string, value: unknown): string {
  return JSON.stringify({ ...(body as object), [field]: value });
}

/** The schema of a field's object, or of its array's items, when it has properties of its own. */
function innerObject(schema: JsonSchema | undefined): JsonSchema | undefined {
  const plain = schema?.anyOf?.find((v) => v.type !== 'null') ?? schema?.oneOf?.[0] ?? schema;
  if (plain?.properties) return plain;
  if (plain?.items?.properties) return plain.items;
  return undefined;
}

/** `good` with `value` at `field.sub` (inside the first item when `field` is an array). */
function replaceInner(good: unknown, field: string, inner: unknown, sub: string, value: unknown): string {
  const outer = (good as Record<string, unknown>)[field];
  const base = (Array.isArray(outer) ? outer[0] : outer) ?? inner ?? {};
  const changed = { ...(base as object), [sub]: value };
  return replace(good, field, Array.isArray(outer) ? [changed, ...outer.slice(1)] : changed);
}

/** The corpus for one route: bodies, ids and queries a careless or hostile caller sends. */
function casesFor(route: DocumentedRoute, valid: Record<string, string>, fill: (body: unknown) => unknown): Case[] {
  const cases: Case[] = [];
  const goodPath = fillPath(route.path, valid);
  for (const id of [...BAD_IDS, ...RAW_BAD_TEXT]) {
    if (route.pathParams.length) cases.push({ name: `path id ${id.slice(0, 20)}`, path: route.path.replace(/\{\w+\}/, id) });
  }
  // DELETE with a good id would remove the fixture the later routes need; its bad ids are above.
  if (route.method === 'DELETE') return cases;
  for (const { name } of route.queryParams) {
    for (const value of ['-1', 'abc', '1e309', LONG.slice(0, 5_000), '%00', "'; DROP TABLE x; --", '[]']) {
      cases.push({ name: `query ${name}=${value.slice(0, 20)}`, path: goodPath, query: `${name}=${encodeURIComponent(value)}` });
    }
    for (const value of FUTURE) cases.push({ name: `query ${name}=${value}`, path: goodPath, query: `${name}=${encodeURIComponent(value)}` });
    for (const value of RAW_BAD_TEXT) cases.push({ name: `query ${name}=${value}`, path: goodPath, query: `${name}=a${value}b` });
    cases.push({ name: `query ${name} repeated`, path: goodPath, query: `${name}=1&${name}=2` });
  }
  cases.push({ name: 'unknown query parameter', path: goodPath, query: 'zzz_unknown=1' });
  if (!['POST', 'PUT', 'PATCH'].includes(route.method)) return cases;

  const good = fill(sample(route.body) ?? {});
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
  raw('deeply nested arrays', nestedArray(200_000));
  for (const [kind, value] of OVERSIZED_ARRAYS) raw(`body as ${kind}`, JSON.stringify(value()));
  if (route.auth === 'none') {
    // An inbound hook takes whatever JSON the sender has: its mapped fields carry outside text.
    for (const text of [...UNICODE, ...FUTURE]) {
      raw(`hook status = ${JSON.stringify(text).slice(0, 16)}`, JSON.stringify({ status: text }));
      raw(`hook message = ${JSON.stringify(text).slice(0, 16)}`, JSON.stringify({ status: 'down', message: text, component: text }));
    }
    for (const [kind, value] of OVERSIZED_ARRAYS) raw(`hook status as ${kind}`, JSON.stringify({ status: value() }));
  }
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
    for (const [kind, value] of OVERSIZED_ARRAYS) raw(`${field} as ${kind}`, replace(good, field, value()));
    for (const s of [...SQL, ...UNICODE, ...FUTURE]) raw(`${field} = ${JSON.stringify(s).slice(0, 16)}`, replace(good, field, s));
    // One level down: the fields of each pushed result, of an SLO, of a mapping.
    const inner = innerObject(route.body?.properties?.[field]);
    for (const sub of bodyFields(inner)) {
      const innerSample = sample(inner);
      for (const value of [...UNICODE, ...FUTURE, LONG, 12345, null, { a: 1 }]) {
        raw(`${field}.${sub} = ${JSON.stringify(value).slice(0, 16)}`, replaceInner(good, field, innerSample, sub, value));
      }
      for (const [kind, value] of OVERSIZED_ARRAYS) raw(`${field}.${sub} as ${kind}`, replaceInner(good, field, innerSample, sub, value()));
    }
    const { [field]: _dropped, ...missing } = good as Record<string, unknown>;
    raw(`${field} missing`, JSON.stringify(missing));
  }
  return cases;
}

/** Text jsonb and text columns refuse: NUL, and a UTF-16 surrogate without its pair. */
const UNSTORABLE = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
/** A request that has not answered by then is a stall, whatever it would have answered. */
const STALL_MS = 10_000;

/** Every string in a value, keys included. */
function strings(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.flatMap(strings);
  if (value !== null && typeof value === 'object') return Object.entries(value).flatMap(([k, v]) => [k, ...strings(v)]);
  return [];
}

describe('the bad-input corpus over every /v1 route: no 5xx, no stall, every refusal says what was wrong', () => {
  let stack: Stack;
  let tap: ProbeResultTap;
  let key: string;
  const valid: Record<string, string> = {};
  /** Sample bodies name this tenant's monitor and observe now, so the good part of each case goes all the way to Kafka. */
  const fill = (body: unknown): unknown => {
    if (Array.isArray(body)) return body.map(fill);
    if (body === null || typeof body !== 'object') return body;
    const field = (k: string, v: unknown) => (k === 'monitor_id' ? valid.monitorId : k === 'observed_at' ? new Date().toISOString() : fill(v));
    return Object.fromEntries(Object.entries(body).map(([k, v]) => [k, field(k, v)]));
  };

  beforeAll(async () => {
    stack = await startStack(['api'], { TOCSIN_RATE_LIMIT_PER_SECOND: '0' });
    tap = await ProbeResultTap.start(stack.config);
    const admin = createTocsinClient({ baseUrl: stack.apiUrl, token: ADMIN_TOKEN });
    const tenant = await ok(admin.POST('/v1/tenants', { body: { name: 'corpus' } }));
    const issued = await ok(admin.POST('/v1/tenants/{id}/api-keys', { params: { path: { id: tenant.id } } }));
    key = issued.key;
    const api = createTocsinClient({ baseUrl: stack.apiUrl, token: key });
    const monitor = await ok(api.POST('/v1/monitors', { body: { slug: 'corpus', name: 'Corpus', url: 'https://example.com/mcp' } }));
    const endpoint = await ok(api.POST('/v1/endpoints', { body: { name: 'corpus', url: 'https://example.com/hook' } }));
    const receiver = await ok(
      api.POST('/v1/receivers', { body: { name: 'corpus', monitor_id: monitor.id, status_field: 'status', message_field: 'message', service_field: 'component' } }),
    );
    Object.assign(valid, { id: monitor.id, monitorId: monitor.id, endpointId: endpoint.id, dedupKey: 'no-such-incident', token: receiver.token });
    // Route-specific ids: a route under /v1/endpoints gets the endpoint, under /v1/api-keys a
    // second key, which the rotate cases revoke, while the corpus goes on with the first.
    const spare = await ok(api.POST('/v1/api-keys', {}));
    valid.endpoints = endpoint.id;
    valid['api-keys'] = spare.id;
    valid.tenants = tenant.id;
    valid.receivers = receiver.id;
  });

  afterAll(async () => {
    await tap?.stop();
    await stack?.close();
  });

  it('answers every case with a 2xx or a JSON 4xx naming the problem, and queues only storable, timely results', async () => {
    const failures: string[] = [];
    let sent = 0;
    let slowest = 0;
    for (const route of documentedRoutes()) {
      const segment = route.path.split('/')[2]!;
      const ids = { ...valid, ...(valid[segment] ? { id: valid[segment]! } : {}) };
      const token = route.auth === 'admin' ? ADMIN_TOKEN : key;
      for (const c of casesFor(route, ids, fill)) {
        const url = `${stack.apiUrl}${c.path ?? fillPath(route.path, ids)}${c.query ? `?${c.query}` : ''}`;
        const where = `${route.method} ${route.path} [${c.name}]`;
        const began = Date.now();
        let res: Response;
        let text: string;
        try {
          res = await fetch(url, {
            method: route.method,
            headers: { authorization: `Bearer ${token}`, ...(c.contentType ? { 'content-type': c.contentType } : {}) },
            ...(c.body !== undefined ? { body: c.body } : {}),
            signal: AbortSignal.timeout(STALL_MS),
          });
          text = await res.text();
        } catch (err) {
          failures.push(`${where}: no answer within ${STALL_MS} ms (${(err as Error).name})`);
          continue;
        } finally {
          sent += 1;
          slowest = Math.max(slowest, Date.now() - began);
        }
        if (res.status >= 500) {
          failures.push(`${where} → ${res.status}: ${text.slice(0, 200)}`);
          continue;
        }
        if (res.status === 401 && route.auth !== 'none') failures.push(`${where} → 401: the corpus lost its key, the cases after it test nothing`);
        if (res.status < 400) continue;
        let body: { statusCode?: number; message?: unknown } = {};
        try {
          body = JSON.parse(text);
        } catch {
          failures.push(`${where} → ${res.status}: not JSON: ${text.slice(0, 100)}`);
          continue;
        }
        if (body.statusCode !== res.status || typeof body.message !== 'string' || body.message.length < 5) {
          failures.push(`${where} → ${res.status}: no clear message: ${text.slice(0, 200)}`);
        }
      }
    }
    expect(failures).toEqual([]);
    expect(sent).toBeGreaterThan(2_000);
    // The API still answers at once after the corpus: nothing it was sent is still holding it.
    const after = Date.now();
    expect((await fetch(`${stack.apiUrl}/v1/monitors`, { headers: { authorization: `Bearer ${key}` } })).status).toBe(200);
    expect(Date.now() - after).toBeLessThan(1_000);

    // What the push route and the hook accepted reached Kafka, and every such result is storable and not from the future.
    const results: ProbeResult[] = tap.results;
    await waitFor(() => results.some((r) => r.source === 'push') && results.some((r) => r.source === 'receiver'), {
      description: 'pushed and received results on the topic',
      timeoutMs: 30_000,
    });
    const skewLimit = Date.now() + stack.config.TOCSIN_MAX_CLOCK_SKEW_SECONDS * 1000;
    const bad = results.filter((r) => strings(r).some((t) => UNSTORABLE.test(t)) || Date.parse(r.observed_at) > skewLimit || Number.isNaN(Date.parse(r.observed_at)));
    expect(bad).toEqual([]);
    process.stdout.write(`bad-input corpus: ${sent} requests, slowest ${slowest} ms, ${results.length} results queued\n`);
  }, 600_000);
});
