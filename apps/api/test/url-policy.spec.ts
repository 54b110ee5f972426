import { checkTargetUrl } from '../src/common/url-policy';

const guarded = { TOCSIN_ALLOW_PRIVATE_URLS: false, TOCSIN_ALLOWED_PRIVATE_CIDRS: [{ network: '127.0.0.2', prefix: 32, family: 'ipv4' as const }] };

describe('checkTargetUrl', () => {
  it.each([
    ['http://127.0.0.1/', /127\.0\.0\.1 is a loopback address/],
    ['http://2130706433/', /127\.0\.0\.1 is a loopback/],
    ['http://0177.0.0.1/', /127\.0\.0\.1 is a loopback/],
    ['http://0x7f.1/', /127\.0\.0\.1 is a loopback/],
    ['http://127.1/', /127\.0\.0\.1 is a loopback/],
    ['http://[::1]/', /::1 is a loopback/],
    ['http://[::ffff:127.0.0.1]/', /leads to 127\.0\.0\.1/],
    ['http://[::ffff:7f00:1]/', /leads to 127\.0\.0\.1/],
    ['http://[64:ff9b::7f00:1]/', /leads to 127\.0\.0\.1/],
    ['http://[2002:7f00:1::]/', /leads to 127\.0\.0\.1/],
    ['http://169.254.169.254/latest/meta-data/', /link-local/],
    ['http://[fd00::1]/', /unique local/],
    ['http://localhost:8080/', /localhost is a loopback name/],
  ])('refuses %s with a 400 naming why', (url, reason) => {
    const refusal = checkTargetUrl(url, guarded);
    expect(refusal).toMatchObject({ ok: false, status: 400, field: 'url' });
    expect(JSON.stringify(refusal)).toMatch(reason);
  });

  it('lets public hosts and the allowed ranges through', () => {
    expect(checkTargetUrl('https://example.com/mcp', guarded)).toBeNull();
    expect(checkTargetUrl('http://8.8.8.8/', guarded)).toBeNull();
    expect(checkTargetUrl('http://127.0.0.2:4000/hook', guarded)).toBeNull();
  });

  it('refuses nothing when private URLs are allowed', () => {
    expect(checkTargetUrl('http://127.0.0.1/', true)).toBeNull();
    expect(checkTargetUrl('http://127.0.0.1/', { TOCSIN_ALLOW_PRIVATE_URLS: true })).toBeNull();
  });
});
