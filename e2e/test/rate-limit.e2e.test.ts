import { createTocsinClient, ok } from '@tocsin/client';
import { ADMIN_TOKEN, startStack, type Stack } from '../src';

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
});
