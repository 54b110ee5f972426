import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebhookClient } from '../src/http/webhook-client';

/** A listener that nothing may reach: every TCP connection it accepts is counted. */
let privateListener: Server;
let privatePort: number;
let connections = 0;
/** A stand-in for a public receiver, on the one address the allowed ranges name. */
let publicServer: Server;
let publicPort: number;

beforeAll(async () => {
  privateListener = createServer((_req, res) => res.end('private'));
  privateListener.on('connection', () => connections++);
  await new Promise<void>((resolve) => privateListener.listen(0, '127.0.0.1', resolve));
  privatePort = (privateListener.address() as AddressInfo).port;
  publicServer = createServer((req, res) => {
    req.resume();
    res.writeHead(307, { location: `http://127.0.0.1:${privatePort}/internal` }).end('moved \u0000 \ud83d');
  });
  await new Promise<void>((resolve) => publicServer.listen(0, '127.0.0.2', resolve));
  publicPort = (publicServer.address() as AddressInfo).port;
});

afterAll(async () => {
  await new Promise<void>((resolve) => privateListener.close(() => resolve()));
  await new Promise<void>((resolve) => publicServer.close(() => resolve()));
});

const allowed = [{ network: '127.0.0.2', prefix: 32, family: 'ipv4' as const }];
const send = (client: WebhookClient, url: string) =>
  client.send({ url, method: 'POST', headers: { authorization: 'Bearer endpoint-secret' }, body: '{}', timeoutMs: 2000 });

describe('the webhook client behind the SSRF guard', () => {
  const client = new WebhookClient(false, 4, allowed);
  afterAll(() => client.close());

  it.each([
    '127.0.0.1',
    '2130706433',
    '0177.0.0.1',
    '0x7f.1',
    '127.1',
    '[::1]',
    '[::ffff:127.0.0.1]',
    '[::ffff:7f00:1]',
    '[64:ff9b::7f00:1]',
    '[2002:7f00:1::]',
    'localhost',
  ])('refuses http://%s without connecting', async (host) => {
    const response = await send(client, `http://${host}:${privatePort}/hook`);
    expect(response.result).toMatchObject({ kind: 'error', errorClass: 'ssrf_blocked', message: expect.stringMatching(/^refused to connect: /) });
    expect(connections).toBe(0);
  });

  it('reaches an allowed range, and does not follow its redirect to a private address', async () => {
    const response = await send(client, `http://127.0.0.2:${publicPort}/hook`);
    expect(response.result).toEqual({ kind: 'response', status: 307, retryAfter: undefined });
    // What the receiver said is kept storable.
    expect(response.snippet).toBe('moved  \ufffd');
    expect(connections).toBe(0);
  });
});
