import { lookup } from 'node:dns/promises';
import { guardedLookup, isPrivateAddress, isPrivateHost, SsrfBlockedError } from '../src';

describe('isPrivateAddress', () => {
  it.each(['127.0.0.1', '10.1.2.3', '172.20.0.1', '192.168.1.1', '169.254.169.254', '100.64.0.1', '0.0.0.0', '::1', 'fe80::1', 'fd00::1', '::ffff:127.0.0.1'])(
    'refuses %s',
    (address) => expect(isPrivateAddress(address)).toBe(true),
  );

  it.each(['93.184.216.34', '8.8.8.8', '2606:2800:220:1::1'])('allows public %s', (address) => {
    expect(isPrivateAddress(address)).toBe(false);
  });

  it('treats names as unknown until resolved', () => {
    expect(isPrivateAddress('example.com')).toBe(false);
  });
});

describe('isPrivateHost', () => {
  it('refuses localhost names and bracketed IPv6 loopback', () => {
    expect(isPrivateHost('localhost')).toBe(true);
    expect(isPrivateHost('api.localhost')).toBe(true);
    expect(isPrivateHost('[::1]')).toBe(true);
    expect(isPrivateHost('example.com')).toBe(false);
  });
});

describe('guardedLookup', () => {
  it('fails a name that resolves to loopback with an SSRF error', async () => {
    const resolved = await lookup('localhost');
    expect(isPrivateAddress(resolved.address)).toBe(true);
    const error = await new Promise<Error | null>((resolve) => guardedLookup('localhost', {}, (err) => resolve(err)));
    expect(error).toBeInstanceOf(SsrfBlockedError);
    expect(error?.message).toMatch(/non-public address/);
  });
});
