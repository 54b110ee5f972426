import { lookup } from 'node:dns/promises';
import { createServer, type Server } from 'node:http';
import type { LookupAddress } from 'node:dns';
import type { AddressInfo, LookupFunction } from 'node:net';
import { request } from 'undici';
import { guardedLookup, isPrivateAddress, isPrivateHost, SsrfBlockedError, SsrfPolicy } from '../src';

/** The hostname WHATWG URL parsing leaves, which is what the guard is given. */
const hostOf = (literal: string): string => new URL(`http://${literal}/`).hostname;

const strict = new SsrfPolicy();

describe('SsrfPolicy classification', () => {
  it.each([
    ['127.0.0.1', /loopback/],
    ['10.1.2.3', /private/],
    ['172.20.0.1', /private/],
    ['192.168.1.1', /private/],
    ['169.254.169.254', /link-local/],
    ['100.64.0.1', /carrier-grade NAT/],
    ['0.0.0.0', /unspecified/],
    ['0.1.2.3', /unspecified/],
    ['224.0.0.1', /multicast/],
    ['240.0.0.1', /reserved/],
    ['192.0.2.1', /reserved/],
    ['255.255.255.255', /broadcast/],
    ['::1', /loopback/],
    ['::', /unspecified/],
    ['fd00::1', /unique local/],
    ['fc00::1', /unique local/],
    ['fe80::1', /link-local/],
    ['ff02::1', /multicast/],
    ['::ffff:127.0.0.1', /leads to 127\.0\.0\.1, a loopback/],
    ['::ffff:7f00:1', /leads to 127\.0\.0\.1, a loopback/],
    ['::ffff:a9fe:a9fe', /leads to 169\.254\.169\.254, a link-local/],
    ['::127.0.0.1', /IPv4-compatible/],
    ['::8.8.8.8', /IPv4-compatible/],
    ['64:ff9b::7f00:1', /leads to 127\.0\.0\.1/],
    ['64:ff9b::10.0.0.1', /leads to 10\.0\.0\.1, a private/],
    ['64:ff9b:1::808:808', /local-use NAT64/],
    ['2002:7f00:1::', /leads to 127\.0\.0\.1/],
    ['2002:c0a8:101::1', /leads to 192\.168\.1\.1/],
    ['2001::1', /Teredo/],
    ['2001:db8::1', /reserved/],
  ])('refuses %s', (address, reason) => {
    expect(strict.addressBlockReason(address)).toMatch(reason);
    expect(isPrivateAddress(address)).toBe(true);
  });

  it.each(['93.184.216.34', '8.8.8.8', '1.1.1.1', '2606:2800:220:1::1', '64:ff9b::808:808', '2002:808:808::1', '::ffff:8.8.8.8'])(
    'allows public %s',
    (address) => expect(strict.addressBlockReason(address)).toBeUndefined(),
  );

  it('leaves names to be judged when they resolve', () => {
    expect(strict.addressBlockReason('example.com')).toBeUndefined();
    expect(strict.hostBlockReason('example.com')).toBeUndefined();
  });
});

describe('hostBlockReason on URL hostnames', () => {
  it.each([
    '127.0.0.1',
    '2130706433',
    '0177.0.0.1',
    '0x7f.1',
    '0x7f000001',
    '127.1',
    '[::1]',
    '[::ffff:127.0.0.1]',
    '[::ffff:7f00:1]',
    '[64:ff9b::7f00:1]',
    '[64:ff9b::127.0.0.1]',
    '[2002:7f00:1::]',
    '[0:0:0:0:0:0:0:1]',
    '[fe80::1]',
    '169.254.169.254',
    '0251.0376.0251.0376',
    'localhost',
    'LOCALHOST.',
    'api.localhost',
  ])('refuses %s in every spelling', (literal) => {
    expect(strict.hostBlockReason(hostOf(literal))).toBeDefined();
    expect(isPrivateHost(hostOf(literal))).toBe(true);
  });

  it('allows a public literal however it is written', () => {
    expect(strict.hostBlockReason(hostOf('134744072'))).toBeUndefined(); // 8.8.8.8
    expect(strict.hostBlockReason(hostOf('[2606:2800:220:1::1]'))).toBeUndefined();
  });
});

describe('TOCSIN_ALLOWED_PRIVATE_CIDRS', () => {
  const policy = new SsrfPolicy([
    { network: '127.0.0.2', prefix: 32, family: 'ipv4' },
    { network: '10.20.0.0', prefix: 16, family: 'ipv4' },
    { network: 'fd12::', prefix: 16, family: 'ipv6' },
  ]);

  it.each(['127.0.0.2', '10.20.3.4', 'fd12::1', '::ffff:127.0.0.2', '::ffff:7f00:2', '64:ff9b::a14:304', '2002:7f00:2::'])(
    'lets %s through',
    (address) => expect(policy.addressBlockReason(address)).toBeUndefined(),
  );

  it.each(['127.0.0.1', '127.0.0.3', '10.21.0.1', 'fd13::1', '::1', '::ffff:127.0.0.1', '169.254.169.254'])(
    'still refuses %s',
    (address) => expect(policy.addressBlockReason(address)).toBeDefined(),
  );

  it('lets the named host through by URL hostname too', () => {
    expect(policy.hostBlockReason(hostOf('127.0.0.2'))).toBeUndefined();
    expect(policy.hostBlockReason(hostOf('2130706434'))).toBeUndefined();
    expect(policy.hostBlockReason(hostOf('localhost'))).toBeDefined();
  });
});

describe('guardedLookup', () => {
  it('fails a name that resolves to loopback with an SSRF error', async () => {
    const resolved = await lookup('localhost');
    expect(isPrivateAddress(resolved.address)).toBe(true);
    const error = await new Promise<Error | null>((resolve) => guardedLookup('localhost', {}, (err) => resolve(err)));
    expect(error).toBeInstanceOf(SsrfBlockedError);
    expect(error?.message).toMatch(/localhost resolves to .*loopback/);
  });
});

describe('the guarded agent', () => {
  let server: Server;
  let port: number;
  let connections = 0;
  let requests = 0;

  beforeAll(async () => {
    server = createServer((_req, res) => {
      requests++;
      res.end('ok');
    });
    server.on('connection', () => connections++);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });

  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('refuses IP literals and loopback names before any connection is made', async () => {
    const agent = strict.agent();
    try {
      for (const host of ['127.0.0.1', '2130706433', '0x7f.1', '127.1', 'localhost', '[::ffff:127.0.0.1]']) {
        const err = await request(`http://${host}:${port}/`, { dispatcher: agent }).then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(err).toBeInstanceOf(SsrfBlockedError);
      }
      expect(connections).toBe(0);
    } finally {
      await agent.close();
    }
  });

  it('connects where the allowed ranges say so', async () => {
    const agent = new SsrfPolicy([{ network: '127.0.0.1', prefix: 32, family: 'ipv4' }]).agent();
    try {
      const res = await request(`http://127.0.0.1:${port}/`, { dispatcher: agent });
      expect(await res.body.text()).toBe('ok');
    } finally {
      await agent.close();
    }
  });

  it('checks the connected address even when a name got past the lookup', async () => {
    // A lookup that lets loopback through stands for any resolver the guard cannot see
    // into; the check of the socket's remote address still refuses the connection.
    class LeakyLookup extends SsrfPolicy {
      override readonly lookup: LookupFunction = (_hostname, options, callback) => {
        if (options.all) (callback as (e: null, a: LookupAddress[]) => void)(null, [{ address: '127.0.0.1', family: 4 }]);
        else callback(null, '127.0.0.1', 4);
      };
    }
    const agent = new LeakyLookup().agent();
    const requestsBefore = requests;
    try {
      const err = await request(`http://public.example:${port}/`, { dispatcher: agent }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(SsrfBlockedError);
      expect((err as Error).message).toMatch(/refused the connection to public\.example: 127\.0\.0\.1 is a loopback/);
      expect(requests).toBe(requestsBefore);
    } finally {
      await agent.close();
    }
  });
});
