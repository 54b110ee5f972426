import { request } from 'node:http';
import { createTocsinClient, ok } from '@tocsin/client';
import { ADMIN_TOKEN, startStack, type Stack } from '../src';

/** One request sent from `localAddress` (any of 127.0.0.0/8 on loopback): another client address. */
function from(localAddress: string, url: string, init: { method?: string; headers?: Record<string, string>; body?: string } = {}) {
  return new Promise<{ status: number; retryAfter: string | undefined; body: { message?: string } }>((done, fail) => {
    const req = request(url, { method: init.method ?? 'GET', headers: init.headers, localAddress }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => done({ status: res.statusCode ?? 0, retryAfter: res.headers['retry-after'], body: JSON.parse(text || '{}') }));
    });
    req.on('error', fail);
    req.end(init.body);
  });
}

describe('per-key rate limiting', () => {
  let stack: Stack;

  beforeAll(async () => {
    stack = await startStack(['api'], { TOCSIN_RATE_LIMIT_PER_SECOND: '0.5', TOCSIN_RATE_LIMIT_BURST: '3' });
  });

  afterAll(async () => {
    await stack?.close();
  });

  it('answers 429 with Retry-After past a key\'s burst, and leaves other keys alone', async () => {
    const admin = createTocsinClient({ baseUrl: stack.apiUrl, token: ADMIN_TOKEN });
    const tenant = await ok(admin.POST('/v1/tenants', { body: { name: 'busy' } }));
    const [first, second] = [
      await ok(admin.POST('/v1/tenants/{id}/api-keys', { params: { path: { id: tenant.id } } })),
      await ok(admin.POST('/v1/tenants/{id}/api-keys', { params: { path: { id: tenant.id } } })),
    ];
    const get = (key: string) => fetch(`${stack.apiUrl}/v1/monitors`, { headers: { authorization: `Bearer ${key}` } });
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await get(first.key)).status);
    expect(statuses).toEqual([200, 200, 200]);
    const limited = await get(first.key);
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(await limited.json()).toMatchObject({ statusCode: 429, error: 'Too Many Requests', message: expect.stringContaining('rate limit') });
    expect((await get(second.key)).status).toBe(200);
  });

  it('limits unknown keys by client address, refusing that address before any lookup, and no other', async () => {
    const admin = createTocsinClient({ baseUrl: stack.apiUrl, token: ADMIN_TOKEN });
    const tenant = await ok(admin.POST('/v1/tenants', { body: { name: 'guessed' } }));
    const good = await ok(admin.POST('/v1/tenants/{id}/api-keys', { params: { path: { id: tenant.id } } }));
    const url = `${stack.apiUrl}/v1/monitors`;
    const guess = (address: string, i: number) => from(address, url, { headers: { authorization: `Bearer tsk_guess_${i}` } });
    const guesses = [];
    for (let i = 0; i < 3; i++) guesses.push((await guess('127.0.0.2', i)).status);
    expect(guesses).toEqual([401, 401, 401]);
    const limited = await guess('127.0.0.2', 3);
    expect(limited.status).toBe(429);
    expect(limited.body.message).toMatch(/client address for unknown API keys/);
    // The guessing address is refused even with a good key; another address is not.
    expect((await from('127.0.0.2', url, { headers: { authorization: `Bearer ${good.key}` } })).status).toBe(429);
    expect((await from('127.0.0.3', url, { headers: { authorization: `Bearer ${good.key}` } })).status).toBe(200);
    expect((await guess('127.0.0.3', 4)).status).toBe(401);
  });

  it('limits the incoming-hook route by client address and by receiver URL, apart from each other', async () => {
    const admin = createTocsinClient({ baseUrl: stack.apiUrl, token: ADMIN_TOKEN });
    const tenant = await ok(admin.POST('/v1/tenants', { body: { name: 'hooked' } }));
    // A fresh key for each set-up call: the keys' own burst is 3.
    const api = async () => {
      const { key } = await ok(admin.POST('/v1/tenants/{id}/api-keys', { params: { path: { id: tenant.id } } }));
      return createTocsinClient({ baseUrl: stack.apiUrl, token: key });
    };
    const monitor = await ok((await api()).POST('/v1/monitors', { body: { slug: 'hooked', name: 'Hooked', url: 'https://hooked.example.com/mcp' } }));
    const receiver = async (name: string) => ok((await api()).POST('/v1/receivers', { body: { name, monitor_id: monitor.id, status_field: 'status' } }));
    const busy = await receiver('busy');
    const others = [await receiver('a'), await receiver('b'), await receiver('c')];
    // An unmapped status is answered 202 "ignored" without touching Kafka: the limit is all this tests.
    const hook = (address: string, receiver: { url: string }) =>
      from(address, `${stack.apiUrl}${receiver.url}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"status":"unmapped"}' });
    // Three senders spread over three addresses: the receiver URL's own bucket is what runs out.
    const spread = [await hook('127.0.0.4', busy), await hook('127.0.0.5', busy), await hook('127.0.0.6', busy)];
    expect(spread.map((r) => r.status)).toEqual([202, 202, 202]);
    const byUrl = await hook('127.0.0.7', busy);
    expect(byUrl.status).toBe(429);
    expect(byUrl.body.message).toMatch(/receiver URL/);
    expect(Number(byUrl.retryAfter)).toBeGreaterThanOrEqual(1);
    expect((await hook('127.0.0.8', others[0]!)).status).toBe(202);
    // One address over its own bucket, spread across receivers none of which is over theirs.
    const one = [];
    for (const r of others) one.push((await hook('127.0.0.9', r)).status);
    expect(one).toEqual([202, 202, 202]);
    const byAddress = await hook('127.0.0.9', others[1]!);
    expect(byAddress.status).toBe(429);
    expect(byAddress.body.message).toMatch(/client address/);
  });
});
