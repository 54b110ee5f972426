import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebhookClient } from '../src/http/webhook-client';

describe('the webhook client behind the SSRF guard', () => {
  it('refuses a loopback URL before connecting unless private URLs are allowed', async () => {
    const guarded = new WebhookClient(false);
    const request = { url: 'http://127.0.0.1:9/hook', method: 'POST', headers: {}, body: '{}', timeoutMs: 1000 };
    await expect(guarded.send(request)).resolves.toMatchObject({ result: { kind: 'error', errorClass: 'ssrf_blocked' } });
    const open = new WebhookClient(true);
    await expect(open.send(request)).resolves.toMatchObject({ result: { kind: 'error', errorClass: 'connection' } });
    await Promise.all([guarded.close(), open.close()]);
  });

  it('refuses a name that resolves to loopback at connect time', async () => {
    const guarded = new WebhookClient(false);
    const request = { url: 'http://localhost:9/hook', method: 'POST', headers: {}, body: '{}', timeoutMs: 1000 };
    await expect(guarded.send(request)).resolves.toMatchObject({ result: { kind: 'error', errorClass: 'ssrf_blocked' } });
    await guarded.close();
  });
});

describe('the webhook client against a real server', () => {
  let server: Server;
  let base: string;
  const client = new WebhookClient(true);

  beforeAll(async () => {
    server = createServer((req, res) => {
      if (req.url === '/redirect') res.writeHead(302, { location: '/elsewhere' }).end();
      else if (req.url === '/large') res.writeHead(500).end('x'.repeat(100_000));
      else if (req.url === '/slow') return; // never answers; closeAllConnections ends it
      else if (req.url === '/busy') res.writeHead(429, { 'Retry-After': '7' }).end('slow down');
      else if (req.url === '/trickle') {
        // A byte at a time, never finishing: no single wait exceeds the timeout, the whole does.
        res.writeHead(200);
        const drip = setInterval(() => res.write('.'), 50);
        res.on('close', () => clearInterval(drip));
      }
      else res.writeHead(204).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await client.close();
  });

  const send = (path: string, timeoutMs = 2000) => client.send({ url: `${base}${path}`, method: 'POST', headers: {}, body: '{}', timeoutMs });

  it('does not follow redirects', async () => {
    await expect(send('/redirect')).resolves.toMatchObject({ result: { kind: 'response', status: 302 } });
  });

  it('keeps only a bounded snippet of a large response', async () => {
    const res = await send('/large');
    expect(res.result).toMatchObject({ status: 500 });
    expect(res.snippet).toBe('x'.repeat(1024));
  });

  it('reads the status, Retry-After and body of a short answer', async () => {
    await expect(send('/busy')).resolves.toMatchObject({ result: { kind: 'response', status: 429, retryAfter: '7' }, snippet: 'slow down' });
  });

  it('cuts a response that trickles on past the timeout', async () => {
    const res = await send('/trickle', 400);
    expect(res.result).toMatchObject({ kind: 'error', errorClass: 'timeout' });
    expect(res.durationMs).toBeGreaterThanOrEqual(390);
    expect(res.durationMs).toBeLessThan(2000);
  });

  it('classifies a slow endpoint as a timeout', async () => {
    const res = await send('/slow', 300);
    expect(res.result).toMatchObject({ kind: 'error', errorClass: 'timeout' });
    expect(res.durationMs).toBeLessThan(2500);
  });
});
