import { isPrivateAddress } from '@tocsin/net-guard';
import { WebhookClient } from '../src/http/webhook-client';

describe('SSRF guard', () => {
  it.each(['127.0.0.1', '10.1.2.3', '172.20.0.1', '192.168.1.1', '169.254.169.254', '::1', 'fe80::1', 'fd00::1', '::ffff:127.0.0.1'])(
    'refuses %s',
    (address) => expect(isPrivateAddress(address)).toBe(true),
  );

  it.each(['93.184.216.34', '2606:2800:220:1::1'])('allows public %s', (address) => {
    expect(isPrivateAddress(address)).toBe(false);
  });

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
