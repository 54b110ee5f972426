import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Client } from 'pg';
import { waitFor } from '@tocsin/testing';
import { ApiClient, startStack, type Stack } from '../src';

interface Listening {
  readonly server: Server;
  readonly port: number;
  /** TCP connections accepted, counted as they are accepted, before any byte is read. */
  connections: number;
}

async function listen(host: string, handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<Listening> {
  const server = createServer(handler);
  const listening = { server, port: 0, connections: 0 };
  server.on('connection', () => listening.connections++);
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  listening.port = (server.address() as AddressInfo).port;
  return listening;
}

async function close(listening: Listening | undefined): Promise<void> {
  if (!listening) return;
  await new Promise<void>((resolve) => {
    listening.server.close(() => resolve());
    listening.server.closeAllConnections();
  });
}

interface MonitorStatus {
  status: string;
  last_failure_layer: string | null;
  last_error: string | null;
}

interface Delivery {
  status: string;
  last_error: string | null;
  attempts: Array<{ outcome: string; http_status: number | null; error_class: string | null; error: string | null }>;
}

/**
 * The SSRF guard on (TOCSIN_ALLOW_PRIVATE_URLS=false), with 127.0.0.2 let through as the
 * stand-in for a public host (TOCSIN_ALLOWED_PRIVATE_CIDRS=127.0.0.2/32). A private
 * listener on 127.0.0.1 stands for the metadata service or an internal API: whatever the
 * tenants write, at creation or later, no connection may ever reach it.
 */
describe('SSRF: nothing a tenant writes reaches a private address', () => {
  let stack: Stack;
  let api: ApiClient;
  let db: Client;
  let privateListener: Listening;
  let publicStandIn: Listening;
  const standInRequests: Array<{ method: string; url: string; authorization: string | undefined }> = [];

  beforeAll(async () => {
    privateListener = await listen('127.0.0.1', (_req, res) => res.end('{"AccessKeyId":"leaked"}'));
    // Answers every request with a redirect to the private listener, the way a hostile
    // server would point the prober or dispatcher at 169.254.169.254; /legacy turns the
    // streamable POST away as a legacy-only server does, so the SSE GET is tried too.
    publicStandIn = await listen('127.0.0.2', (req, res) => {
      standInRequests.push({ method: req.method ?? '', url: req.url ?? '', authorization: req.headers.authorization });
      req.resume();
      if (req.url === '/legacy' && req.method === 'POST') return void res.writeHead(405).end();
      res.writeHead(307, { location: `http://127.0.0.1:${privateListener.port}/latest/meta-data/?token=x` }).end();
    });
    stack = await startStack(['api', 'probe-ingest', 'severity-router', 'dispatcher'], {
      TOCSIN_ALLOW_PRIVATE_URLS: 'false',
      TOCSIN_ALLOWED_PRIVATE_CIDRS: '127.0.0.2/32',
    });
    ({ client: api } = await ApiClient.tenant(stack.apiUrl, 'ssrf'));
    db = new Client({ connectionString: stack.database.url });
    await db.connect();
  });

  afterAll(async () => {
    await db?.end();
    await stack?.close();
    await Promise.all([close(privateListener), close(publicStandIn)]);
  });

  afterEach(() => {
    // Every test ends with the one assertion that matters.
    expect(privateListener.connections).toBe(0);
  });

  /** Built before the listener has its port: `PORT` stands for it. */
  const privateUrls = (path: string): Array<[string, string]> => {
    const port = 'PORT';
    return [
      ['dotted', `http://127.0.0.1:${port}${path}`],
      ['decimal', `http://2130706433:${port}${path}`],
      ['octal', `http://0177.0.0.1:${port}${path}`],
      ['hex', `http://0x7f.1:${port}${path}`],
      ['short', `http://127.1:${port}${path}`],
      ['IPv6 loopback', `http://[::1]:${port}${path}`],
      ['IPv4-mapped', `http://[::ffff:127.0.0.1]:${port}${path}`],
      ['IPv4-mapped hex', `http://[::ffff:7f00:1]:${port}${path}`],
      ['NAT64', `http://[64:ff9b::7f00:1]:${port}${path}`],
      ['6to4', `http://[2002:7f00:1::]:${port}${path}`],
      ['link-local metadata', `http://169.254.169.254${path}`],
      ['a name for loopback', `http://localhost:${port}${path}`],
    ];
  };

  describe('creation refuses every spelling of a private address with a 400 that says why', () => {
    const withPort = (url: string) => url.replace('PORT', String(privateListener.port));

    it.each(privateUrls('/mcp'))('a monitor at a %s URL', async (_form, template) => {
      const url = withPort(template);
      const res = await api.post<{ detail?: string }>('/v1/monitors', { slug: `m-${Math.random().toString(36).slice(2)}`, name: 'm', url });
      expect(res.status).toBe(400);
      expect(JSON.stringify(res.body)).toMatch(/is (a|an|the) [a-z -]+(address|name)|leads to 127\.0\.0\.1/);
    });

    it.each(privateUrls('/hook'))('an endpoint at a %s URL', async (_form, template) => {
      const url = withPort(template);
      const res = await api.post('/v1/endpoints', { name: 'e', url });
      expect(res.status).toBe(400);
      expect(JSON.stringify(res.body)).toMatch(/non-public addresses are not allowed/);
    });
  });

  const createMonitor = async (slug: string, url: string, kind: 'mcp' | 'http' = 'mcp') => {
    const res = await api.post<{ id: string }>('/v1/monitors', { slug, name: slug, url, kind, interval_seconds: 1, timeout_ms: 2000 });
    expect(res.status).toBe(201);
    return res.body.id;
  };

  const failingWith = (id: string, pattern: RegExp) =>
    waitFor(
      async () => {
        const s = (await api.get<MonitorStatus>(`/v1/monitors/${id}/status`)).body;
        return s.status === 'failing' && pattern.test(s.last_error ?? '') && s;
      },
      { description: `monitor ${id} failing with ${pattern}`, timeoutMs: 30_000 },
    );

  describe('probes of a public server that redirects to the private listener', () => {
    const target = () => `http://127.0.0.1:${privateListener.port}/latest/meta-data/`;

    it('handshake generation: the 307 is a failure of layer http, not followed', async () => {
      const id = await createMonitor('redirect-handshake', `http://127.0.0.2:${publicStandIn.port}/mcp`);
      const status = await failingWith(id, /HTTP 307 on initialize: redirect to .* not followed/);
      expect(status.last_failure_layer).toBe('http');
      expect(status.last_error).toContain(`redirect to ${target()} not followed`);
      expect(status.last_error).not.toContain('token=x');
    });

    it('stateless generation: the 307 on discover is not followed either', async () => {
      const id = await createMonitor('redirect-stateless', `http://127.0.0.2:${publicStandIn.port}/mcp`);
      // As if the server had been seen speaking the stateless generation: it is tried first.
      await db.query(`UPDATE monitors SET mcp_generation = 'stateless' WHERE id = $1`, [id]);
      const status = await failingWith(id, /HTTP 307 on discover: redirect to .* not followed/);
      expect(status.last_failure_layer).toBe('http');
      expect(status.last_error).toContain(target());
    });

    it('legacy SSE transport: the redirected event stream is not followed', async () => {
      const id = await createMonitor('redirect-legacy', `http://127.0.0.2:${publicStandIn.port}/legacy`);
      await failingWith(id, /HTTP 405 on initialize/);
      await waitFor(() => standInRequests.some((r) => r.url === '/legacy' && r.method === 'GET'), { description: 'the SSE GET was tried' });
    });

    it('an HTTP monitor takes the 307 as its answer', async () => {
      const id = await createMonitor('redirect-http', `http://127.0.0.2:${publicStandIn.port}/health`, 'http');
      await failingWith(id, /HTTP 307, expected a 2xx/);
    });
  });

  describe('probes of URLs saved before they were refused are refused at connect time', () => {
    it.each([
      ['IPv4-mapped hex', '[::ffff:7f00:1]', /::ffff:7f00:1 leads to 127\.0\.0\.1, a loopback address/],
      ['NAT64', '[64:ff9b::7f00:1]', /64:ff9b::7f00:1 leads to 127\.0\.0\.1/],
      ['6to4', '[2002:7f00:1::]', /2002:7f00:1:: leads to 127\.0\.0\.1/],
      ['decimal', '2130706433', /127\.0\.0\.1 is a loopback address/],
    ])('a monitor whose URL became %s', async (form, host, reason) => {
      const id = await createMonitor(`saved-${form.replace(/\W+/g, '-').toLowerCase()}`, `http://127.0.0.2:${publicStandIn.port}/mcp`);
      await db.query('UPDATE monitors SET url = $2 WHERE id = $1', [id, `http://${host}:${privateListener.port}/mcp`]);
      const status = await failingWith(id, reason);
      expect(status.last_error).toMatch(/^refused to connect: /);
      expect(status.last_failure_layer).toBe('transport');
    });
  });

  describe('webhook attempts', () => {
    const deliveryOf = (id: string, done: (d: Delivery) => boolean) =>
      waitFor(
        async () => {
          const d = (await api.get<Delivery>(`/v1/deliveries/${id}`)).body;
          return done(d) && d;
        },
        { description: `delivery ${id} settled`, timeoutMs: 30_000 },
      );

    it('a receiver that answers 307 to the private listener is not followed, and the attempt says why', async () => {
      const endpoint = await api.post<{ id: string }>('/v1/endpoints', { name: 'redirecting', url: `http://127.0.0.2:${publicStandIn.port}/hook` });
      expect(endpoint.status).toBe(201);
      const test = await api.post<{ delivery_id: string }>(`/v1/endpoints/${endpoint.body.id}/test`, {});
      const delivery = await deliveryOf(test.body.delivery_id, (d) => d.status === 'dead_lettered');
      expect(delivery.attempts[0]).toMatchObject({ outcome: 'failed', http_status: 307, error_class: 'redirect' });
      expect(delivery.last_error).toBe('HTTP 307: redirects are not followed');
      expect(standInRequests.some((r) => r.url === '/hook' && r.method === 'POST')).toBe(true);
    });

    it('an endpoint whose URL became an IPv4-mapped address is refused at connect time', async () => {
      const endpoint = await api.post<{ id: string }>('/v1/endpoints', {
        name: 'saved-mapped',
        url: `http://127.0.0.2:${publicStandIn.port}/hook`,
        retry_schedule_seconds: [0],
      });
      expect(endpoint.status).toBe(201);
      await db.query('UPDATE endpoints SET url = $2 WHERE id = $1', [endpoint.body.id, `http://[::ffff:7f00:1]:${privateListener.port}/hook`]);
      const test = await api.post<{ delivery_id: string }>(`/v1/endpoints/${endpoint.body.id}/test`, {});
      const delivery = await deliveryOf(test.body.delivery_id, (d) => d.attempts.length > 0);
      expect(delivery.attempts[0]).toMatchObject({ outcome: 'failed', error_class: 'ssrf_blocked' });
      expect(delivery.attempts[0]!.error).toMatch(/::ffff:7f00:1 leads to 127\.0\.0\.1, a loopback address/);
    });
  });
});
