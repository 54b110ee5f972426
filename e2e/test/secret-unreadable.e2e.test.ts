import { createHmac } from 'node:crypto';
import { Client } from 'pg';
import { WebhookReceiver, waitFor } from '@tocsin/testing';
import { ApiClient, startStack, type Stack } from '../src';

interface CreatedReceiver {
  id: string;
  token: string;
  url: string;
}

interface Endpoint {
  id: string;
  headers: Record<string, string>;
  secret_error: string | null;
  secret?: string;
}

/**
 * A secret that cannot be opened (its key dropped before a re-seal, or a ciphertext copied
 * into another row) fails only its own receiver's or endpoint's work, with the class
 * `secret_unreadable`, and never stops the API or the dispatcher for every tenant.
 */
describe('a secret that cannot be opened', () => {
  const SECRET = 'statuspage-shared-secret';
  let stack: Stack;
  let pager: WebhookReceiver;
  let db: Client;
  let acme: ApiClient;
  let other: ApiClient;
  let acmeKey: string;
  let otherKey: string;

  const hook = async (baseUrl: string, receiver: CreatedReceiver, status: string) => {
    const raw = JSON.stringify({ status });
    const res = await fetch(`${baseUrl}${receiver.url}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-webhook-signature': createHmac('sha256', SECRET).update(raw).digest('hex') },
      body: raw,
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  const receiverOf = async (api: ApiClient, slug: string) => {
    const monitor = await api.post<{ id: string }>('/v1/monitors', { slug, name: slug, url: `https://${slug}.example.com/mcp` });
    expect(monitor.status).toBe(201);
    const created = await api.post<CreatedReceiver>('/v1/receivers', { name: slug, monitor_id: monitor.body.id, status_field: 'status', secret: SECRET });
    expect(created.status).toBe(201);
    return created.body;
  };
  const sealedOf = async (table: 'receivers' | 'endpoints', id: string): Promise<string> =>
    (await db.query(`SELECT secret FROM ${table} WHERE id = $1`, [id])).rows[0].secret as string;
  /** The same ciphertext under a key id TOCSIN_ENCRYPTION_KEY does not hold: a key dropped before its rows were re-sealed. */
  const underDroppedKey = (sealed: string) => sealed.replace(/^enc:v2:[^:]+:/, 'enc:v2:retired:');

  beforeAll(async () => {
    [stack, pager] = await Promise.all([startStack(['api', 'severity-router', 'dispatcher']), WebhookReceiver.start()]);
    ({ client: acme, key: acmeKey } = await ApiClient.tenant(stack.apiUrl, 'acme'));
    ({ client: other, key: otherKey } = await ApiClient.tenant(stack.apiUrl, 'other'));
    db = new Client({ connectionString: stack.database.url });
    await db.connect();
  });

  afterAll(async () => {
    await db?.end();
    await stack?.close();
    await pager?.close();
  });

  it('answers 503 secret_unreadable for that receiver alone, and shows it on the receiver', async () => {
    const copiedInto = await receiverOf(acme, 'copied');
    const source = await receiverOf(acme, 'source');
    const dropped = await receiverOf(acme, 'dropped');
    const theirs = await receiverOf(other, 'theirs');
    // One ciphertext copied into another row (it opens only in its own), one under a dropped key.
    await db.query('UPDATE receivers SET secret = $2 WHERE id = $1', [copiedInto.id, await sealedOf('receivers', source.id)]);
    await db.query('UPDATE receivers SET secret = $2 WHERE id = $1', [dropped.id, underDroppedKey(await sealedOf('receivers', dropped.id))]);

    for (const broken of [copiedInto, dropped]) {
      const res = await hook(stack.apiUrl, broken, 'down');
      expect(res.status).toBe(503);
      expect(res.body).toMatchObject({ statusCode: 503, details: { error_class: 'secret_unreadable' } });
      expect(String(res.body.message)).toContain('secret_unreadable');
      const read = await acme.get<{ secret_error: string | null }>(`/v1/receivers/${broken.id}`);
      expect(read.body.secret_error).toBe('secret_unreadable');
      const log = await acme.get<{ data: Array<{ result: string; reason: string }> }>(`/v1/receivers/${broken.id}/log`);
      expect(log.body.data[0]).toMatchObject({ result: 'failed', reason: expect.stringContaining('secret_unreadable') });
    }
    // Beside them, the same tenant's other receiver and another tenant's go on as before.
    expect((await hook(stack.apiUrl, source, 'operational')).status).toBe(202);
    expect((await hook(stack.apiUrl, theirs, 'operational')).status).toBe(202);
    expect((await acme.get<{ secret_error: string | null }>(`/v1/receivers/${source.id}`)).body.secret_error).toBeNull();
  });

  it('shows secret_unreadable on the endpoint, refuses to reveal it, and masks header values everywhere else', async () => {
    const headers = { authorization: 'Bearer pager-t0ken', 'x-team': 'sre' };
    const good = await acme.post<Endpoint>('/v1/endpoints', { name: 'good', url: `${pager.url}/good`, headers });
    expect(good.status).toBe(201);
    expect(good.body.headers).toEqual(headers);
    const broken = await acme.post<Endpoint>('/v1/endpoints', { name: 'broken', url: `${pager.url}/broken` });
    await db.query('UPDATE endpoints SET secret = $2 WHERE id = $1', [broken.body.id, await sealedOf('endpoints', good.body.id)]);

    const read = await acme.get<Endpoint>(`/v1/endpoints/${good.body.id}`);
    expect(read.body).toMatchObject({ secret_error: null, headers: { authorization: '********', 'x-team': '********' } });
    expect(JSON.stringify((await acme.get('/v1/endpoints')).body)).not.toContain('pager-t0ken');
    const { rows } = await db.query('SELECT headers, sealed_headers, header_names FROM endpoints WHERE id = $1', [good.body.id]);
    expect(rows[0]).toMatchObject({ headers: {}, header_names: ['authorization', 'x-team'] });
    expect(rows[0].sealed_headers).toMatch(/^enc:v2:/);
    expect(rows[0].sealed_headers).not.toContain('pager-t0ken');
    const revealed = await acme.get<{ secret: string; headers: Record<string, string> }>(`/v1/endpoints/${good.body.id}/secret`);
    expect(revealed.body).toEqual({ secret: good.body.secret, headers });

    expect((await acme.get<Endpoint>(`/v1/endpoints/${broken.body.id}`)).body.secret_error).toBe('secret_unreadable');
    const refused = await acme.get<Record<string, unknown>>(`/v1/endpoints/${broken.body.id}/secret`);
    expect(refused.status).toBe(409);
    expect(refused.body).toMatchObject({ details: { error_class: 'secret_unreadable' } });

    // The dispatcher still opens and sends the sealed headers of the good endpoint.
    const test = await acme.post<{ delivery_id: string }>(`/v1/endpoints/${good.body.id}/test`, {});
    expect(test.status).toBe(202);
    await waitFor(() => pager.received.some((r) => r.headers['webhook-id'] === test.body.delivery_id), { description: 'test webhook' });
    const arrived = pager.received.find((r) => r.headers['webhook-id'] === test.body.delivery_id)!;
    expect(arrived.headers.authorization).toBe('Bearer pager-t0ken');
    expect(arrived.headers['x-team']).toBe('sre');
  });

  it('does not stop the API or the dispatcher from starting, and they go on serving every tenant', async () => {
    // Unreadable rows in every sealed column the start-up re-seal walks.
    const monitor = await other.post<{ id: string }>('/v1/monitors', {
      slug: 'sealed',
      name: 'sealed',
      url: 'https://sealed.example.com/mcp',
      headers: { authorization: 'Bearer m' },
    });
    const { rows } = await db.query('SELECT sealed_headers FROM monitors WHERE id = $1', [monitor.body.id]);
    await db.query('UPDATE monitors SET sealed_headers = $2 WHERE id = $1', [monitor.body.id, underDroppedKey(rows[0].sealed_headers as string)]);
    const endpoint = await other.post<Endpoint>('/v1/endpoints', { name: 'e', url: `${pager.url}/e`, headers: { a: 'b' } });
    await db.query(`UPDATE endpoints SET secret = $2, sealed_headers = $3, previous_secrets = $4::jsonb WHERE id = $1`, [
      endpoint.body.id,
      underDroppedKey(await sealedOf('endpoints', endpoint.body.id)),
      'enc:v2:retired:a:b:c',
      JSON.stringify([{ secret: 'enc:v2:retired:a:b:c', expires_at: '2099-01-01T00:00:00Z' }]),
    ]);

    for (const app of ['api', 'dispatcher'] as const) {
      await stack.stop(app);
      await stack.start(app);
    }
    const apiUrl = (await stack.apps.get('api')!.getUrl()).replace('[::1]', '127.0.0.1');
    const started = Date.now();
    expect((await new ApiClient(apiUrl, acmeKey).get('/v1/monitors')).status).toBe(200);
    expect(Date.now() - started).toBeLessThan(2_000);
    const unreadable = await new ApiClient(apiUrl, otherKey).get<Endpoint>(`/v1/endpoints/${endpoint.body.id}`);
    expect(unreadable.body.secret_error).toBe('secret_unreadable');
    // The dispatcher is up too: a good endpoint's test webhook arrives.
    const good = await new ApiClient(apiUrl, acmeKey).post<Endpoint>('/v1/endpoints', { name: 'after', url: `${pager.url}/after` });
    const test = await new ApiClient(apiUrl, acmeKey).post<{ delivery_id: string }>(`/v1/endpoints/${good.body.id}/test`, {});
    await waitFor(() => pager.received.some((r) => r.headers['webhook-id'] === test.body.delivery_id), { description: 'webhook after restart' });
  });
});
