import { createHmac } from 'node:crypto';
import { Client } from 'pg';
import { WebhookReceiver } from '@tocsin/testing';
import { ApiClient, startStack, type Stack } from '../src';

interface CreatedReceiver {
  id: string;
  token: string;
  url: string;
}

interface LogRow {
  received_at: string;
  source_ip: string | null;
  payload: unknown;
  result: 'processed' | 'ignored' | 'failed' | 'auth_failed';
  reason: string | null;
  raw_status: string | null;
  mapped_status: string | null;
  previous_status: string | null;
  new_status: string | null;
}

/**
 * Inbound receivers (DESIGN §6): another system's status webhook, called without an API
 * key at its token URL, becomes probe results of one of the tenant's monitors and so
 * incidents and signed webhooks, and every call is in the receiver's bounded log.
 */
describe('inbound receivers', () => {
  const SECRET = 'statuspage-shared-secret';
  let stack: Stack;
  let pager: WebhookReceiver;
  let api: ApiClient;
  let endpointSecret: string;
  let db: Client;

  const hook = async (url: string, body: unknown, headers: Record<string, string> = {}) => {
    const raw = typeof body === 'string' ? body : JSON.stringify(body);
    const res = await fetch(`${stack.apiUrl}${url}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: raw });
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : {}) as Record<string, unknown> };
  };
  const signed = (body: unknown, secret = SECRET, prefix = 'sha256=') => {
    const raw = JSON.stringify(body);
    return { raw, signature: `${prefix}${createHmac('sha256', secret).update(raw).digest('hex')}` };
  };
  const log = async (id: string) => (await api.get<{ data: LogRow[] }>(`/v1/receivers/${id}/log`)).body.data;
  const monitor = async (slug: string, extra: Record<string, unknown> = {}) => {
    const res = await api.post<{ id: string }>('/v1/monitors', { slug, name: `${slug} service`, url: `https://${slug}.example.com/mcp`, ...extra });
    expect(res.status).toBe(201);
    return res.body.id;
  };
  const statusPage = (status: string, message = 'all good') => ({
    data: { attributes: { current_status: status, message }, id: 'incident-1' },
  });

  beforeAll(async () => {
    [stack, pager] = await Promise.all([startStack(['api', 'severity-router', 'dispatcher']), WebhookReceiver.start()]);
    ({ client: api } = await ApiClient.tenant(stack.apiUrl, 'acme'));
    const endpoint = await api.post<{ secret: string }>('/v1/endpoints', { name: 'pager', url: pager.url });
    endpointSecret = endpoint.body.secret;
    db = new Client({ connectionString: stack.database.url });
    await db.connect();
  });

  afterAll(async () => {
    await db?.end();
    await stack?.close();
    await pager?.close();
  });

  describe('a signed receiver bound to one monitor', () => {
    let monitorId: string;
    let receiver: CreatedReceiver;

    beforeAll(async () => {
      monitorId = await monitor('billing', { confirm_after: 1 });
      const created = await api.post<CreatedReceiver>('/v1/receivers', {
        name: 'status page',
        monitor_id: monitorId,
        status_field: 'data.attributes.current_status',
        message_field: 'data.attributes.message',
        mapping: { 'Major Outage': 'down', RED: 'down' },
        secret: SECRET,
      });
      expect(created.status).toBe(201);
      receiver = created.body;
    });

    it('answers a 64-character token URL once, and never the secret or token again', async () => {
      expect(receiver.token).toMatch(/^[A-Za-z0-9_-]{64}$/);
      expect(receiver.url).toBe(`/v1/hooks/incoming/${receiver.token}`);
      const read = await api.get(`/v1/receivers/${receiver.id}`);
      expect(read.status).toBe(200);
      expect(read.body).toMatchObject({
        id: receiver.id,
        monitor_id: monitorId,
        signature_header: 'X-Webhook-Signature',
        signed: true,
        mapping: { 'major outage': 'down', red: 'down' },
      });
      expect(JSON.stringify(read.body)).not.toContain(SECRET);
      expect(JSON.stringify(read.body)).not.toContain(receiver.token);
      const listed = await api.get<{ data: Array<{ id: string }> }>('/v1/receivers');
      expect(listed.body.data.map((r) => r.id)).toContain(receiver.id);

      const { rows } = await db.query('SELECT secret, token_hash FROM receivers WHERE id = $1', [receiver.id]);
      expect(rows[0].secret).toMatch(/^enc:v2:/);
      expect(rows[0].secret).not.toContain(SECRET);
      expect(rows[0].token_hash).not.toContain(receiver.token);
    });

    it('turns a signed status change into an incident and a signed webhook, and back', async () => {
      const down = signed(statusPage('major outage', 'payments failing in eu-west'));
      const res = await hook(receiver.url, down.raw, { 'x-webhook-signature': down.signature });
      expect(res.status).toBe(202);
      expect(res.body).toMatchObject({ result: 'processed', raw_status: 'major outage', mapped_status: 'down', monitor_id: monitorId });

      const [started] = await pager.waitForEvent('downtime_started');
      expect(started!.body).toMatchObject({
        event: 'downtime_started',
        failure_layer: 'http',
        severity: 'P1',
        server_slug: 'billing',
        last_error: 'payments failing in eu-west',
      });
      expect(WebhookReceiver.verify(endpointSecret, started!)).toBe(true);

      // The bare hex form of the signature is accepted too, and "Operational" maps by default.
      const up = signed(statusPage('Operational'), SECRET, '');
      expect((await hook(receiver.url, up.raw, { 'X-Webhook-Signature': up.signature })).status).toBe(202);
      const [resolved] = await pager.waitForEvent('downtime_resolved');
      expect(resolved!.body.dedup_key).toBe(started!.body.dedup_key);
      expect(WebhookReceiver.verify(endpointSecret, resolved!)).toBe(true);

      const rows = await log(receiver.id);
      expect(rows.slice(0, 2)).toEqual([
        expect.objectContaining({ result: 'processed', raw_status: 'Operational', mapped_status: 'operational', previous_status: 'down', new_status: 'operational' }),
        expect.objectContaining({ result: 'processed', raw_status: 'major outage', mapped_status: 'down', previous_status: null, new_status: 'down' }),
      ]);
      expect(rows[1]!.payload).toEqual(statusPage('major outage', 'payments failing in eu-west'));
      expect(rows[0]!.source_ip).toMatch(/127\.0\.0\.1/);
    });

    it('refuses a wrong or missing signature with 401 and logs auth_failed', async () => {
      const forged = signed(statusPage('down'), 'not-the-secret');
      const wrong = await hook(receiver.url, forged.raw, { 'x-webhook-signature': forged.signature });
      expect(wrong).toMatchObject({ status: 401, body: { statusCode: 401, error: 'Unauthorized' } });
      expect(wrong.body.message).toContain('does not match');
      const missing = await hook(receiver.url, statusPage('down'));
      expect(missing).toMatchObject({ status: 401, body: { message: expect.stringContaining('missing') } });
      // A body changed after signing fails too.
      const tampered = signed(statusPage('operational'));
      const changed = await hook(receiver.url, tampered.raw.replace('operational', 'down'), { 'x-webhook-signature': tampered.signature });
      expect(changed.status).toBe(401);

      const rows = await log(receiver.id);
      expect(rows.slice(0, 3).map((r) => r.result)).toEqual(['auth_failed', 'auth_failed', 'auth_failed']);
      expect(rows[0]).toMatchObject({ mapped_status: null, new_status: null });
      const monitorStatus = await api.get<{ open_incident: unknown }>(`/v1/monitors/${monitorId}/status`);
      expect(monitorStatus.body.open_incident).toBeNull();
    });

    it('answers an unmapped status with 202 ignored, and logs it', async () => {
      const body = signed(statusPage('investigating'));
      const res = await hook(receiver.url, body.raw, { 'x-webhook-signature': body.signature });
      expect(res).toMatchObject({ status: 202, body: { result: 'ignored', raw_status: 'investigating', mapped_status: null, event_id: null } });
      const [latest] = await log(receiver.id);
      expect(latest).toMatchObject({ result: 'ignored', raw_status: 'investigating', mapped_status: null, previous_status: 'operational', new_status: 'operational' });
    });

    it('logs bodies it cannot use as failed, with a 4xx naming the problem', async () => {
      const noStatus = signed({ data: { attributes: {} } });
      const res = await hook(receiver.url, noStatus.raw, { 'x-webhook-signature': noStatus.signature });
      expect(res).toMatchObject({ status: 400, body: { message: 'data.attributes.current_status: no status at this path in the body' } });
      const [latest] = await log(receiver.id);
      expect(latest).toMatchObject({ result: 'failed', reason: expect.stringContaining('data.attributes.current_status') });
    });
  });

  it('answers 404 for a token no receiver has, without an API key', async () => {
    const res = await hook(`/v1/hooks/incoming/${'x'.repeat(64)}`, statusPage('down'));
    expect(res).toMatchObject({ status: 404, body: { statusCode: 404, error: 'Not Found' } });
    expect((await hook('/v1/hooks/incoming/short', statusPage('down'))).status).toBe(404);
  });

  it('matches the monitor by slug or name through service_field', async () => {
    const search = await monitor('search');
    const created = await api.post<CreatedReceiver>('/v1/receivers', {
      name: 'cloud health',
      status_field: 'detail.status',
      service_field: 'detail.service',
    });
    expect(created.status).toBe(201);
    const bySlug = await hook(created.body.url, { detail: { service: 'search', status: 'DEGRADED' } });
    expect(bySlug.body).toMatchObject({ result: 'processed', mapped_status: 'degraded', monitor_id: search });
    const byName = await hook(created.body.url, { detail: { service: 'SEARCH Service', status: 'ok' } });
    expect(byName.body).toMatchObject({ result: 'processed', mapped_status: 'operational', monitor_id: search });
    const unknown = await hook(created.body.url, { detail: { service: 'nope', status: 'down' } });
    expect(unknown).toMatchObject({ status: 400, body: { message: 'detail.service: no monitor has the slug or name "nope"' } });
    const rows = await log(created.body.id);
    expect(rows.map((r) => r.result)).toEqual(['failed', 'processed', 'processed']);
    expect(rows[1]).toMatchObject({ previous_status: 'degraded', new_status: 'operational' });
  });

  it('reads the signature from a custom header, and refuses a body that is not JSON with 415', async () => {
    const monitorId = await monitor('ci');
    const created = await api.post<CreatedReceiver>('/v1/receivers', {
      name: 'ci',
      monitor_id: monitorId,
      status_field: 'check_run.conclusion',
      mapping: { success: 'operational', failure: 'down' },
      secret: SECRET,
      signature_header: 'X-Hub-Signature-256',
    });
    expect(created.status).toBe(201);
    const body = signed({ check_run: { conclusion: 'success' } });
    const inDefaultHeader = await hook(created.body.url, body.raw, { 'x-webhook-signature': body.signature });
    expect(inDefaultHeader.status).toBe(401);
    expect(inDefaultHeader.body.message).toContain('X-Hub-Signature-256');
    const ok = await hook(created.body.url, body.raw, { 'x-hub-signature-256': body.signature });
    expect(ok).toMatchObject({ status: 202, body: { result: 'processed', mapped_status: 'operational' } });

    const text = 'status=down';
    const res = await fetch(`${stack.apiUrl}${created.body.url}`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain', 'x-hub-signature-256': `sha256=${createHmac('sha256', SECRET).update(text).digest('hex')}` },
      body: text,
    });
    expect(res.status).toBe(415);
    expect(await res.json()).toMatchObject({ statusCode: 415, message: expect.stringContaining('application/json') });
    const rows = await log(created.body.id);
    expect(rows.map((r) => r.result)).toEqual(['failed', 'processed', 'auth_failed']);
  });

  it('keeps only the newest 50 calls per receiver, newest first', async () => {
    const monitorId = await monitor('chatty');
    const created = await api.post<CreatedReceiver>('/v1/receivers', { name: 'chatty', monitor_id: monitorId, status_field: 'n' });
    for (let i = 1; i <= 55; i++) {
      const res = await hook(created.body.url, { n: `call-${i}` });
      expect(res.body).toMatchObject({ result: 'ignored' });
    }
    const rows = await log(created.body.id);
    expect(rows).toHaveLength(50);
    expect(rows.map((r) => r.raw_status)).toEqual(Array.from({ length: 50 }, (_, i) => `call-${55 - i}`));
    const { rows: stored } = await db.query('SELECT count(*)::int AS n FROM receiver_calls WHERE receiver_id = $1', [created.body.id]);
    expect(stored[0].n).toBe(50);
  });

  it("answers 404 for another tenant's receivers, and a deleted receiver's URL stops working", async () => {
    const monitorId = await monitor('private');
    const created = await api.post<CreatedReceiver>('/v1/receivers', { name: 'mine', monitor_id: monitorId, status_field: 'status' });
    const { client: other } = await ApiClient.tenant(stack.apiUrl, 'globex');
    for (const path of [`/v1/receivers/${created.body.id}`, `/v1/receivers/${created.body.id}/log`]) {
      expect([path, (await other.get(path)).status]).toEqual([path, 404]);
    }
    expect((await other.call('DELETE', `/v1/receivers/${created.body.id}`)).status).toBe(404);
    expect((await other.post('/v1/receivers', { name: 'theirs', monitor_id: monitorId, status_field: 'status' })).status).toBe(404);
    expect((await other.get<{ data: unknown[] }>('/v1/receivers')).body.data).toEqual([]);

    expect((await api.call('DELETE', `/v1/receivers/${created.body.id}`)).status).toBe(204);
    expect((await hook(created.body.url, { status: 'down' })).status).toBe(404);
    expect((await api.get(`/v1/receivers/${created.body.id}`)).status).toBe(404);
  });

  it('names bad receiver fields', async () => {
    const res = await api.post('/v1/receivers', { name: '', status_field: 'a..b', mapping: { x: 'sideways' } });
    expect(res.status).toBe(400);
    const fields = (res.body.details as Array<{ field: string }>).map((d) => d.field).sort();
    expect(fields).toEqual(expect.arrayContaining(['mapping.x', 'name', 'status_field']));
    const noTarget = await api.post('/v1/receivers', { name: 'x', status_field: 'status' });
    expect(noTarget).toMatchObject({ status: 400, body: { details: [{ field: 'monitor_id' }] } });
    // Text Postgres would refuse (a 500) is a 400 naming the field.
    const unstorable = await api.post('/v1/receivers', { name: 'x', status_field: 'status', service_field: 'svc', mapping: { 'bad\uD800': 'down' } });
    expect(unstorable).toMatchObject({ status: 400, body: { message: expect.stringContaining('mapping') } });
  });
});
