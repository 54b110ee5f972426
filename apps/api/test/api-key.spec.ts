import { bearerToken, generateApiKey, hashApiKey, safeEqual } from '../src/auth/api-key';

describe('API keys', () => {
  it('are random, prefixed, and stored only as a digest', () => {
    const key = generateApiKey();
    expect(key).toMatch(/^tsk_[A-Za-z0-9_-]{43}$/);
    expect(generateApiKey()).not.toBe(key);
    expect(hashApiKey(key)).toMatch(/^[0-9a-f]{64}$/);
    expect(hashApiKey(key)).not.toContain(key.slice(4));
  });

  it('parse from a Bearer header only', () => {
    expect(bearerToken('Bearer abc')).toBe('abc');
    expect(bearerToken('bearer abc ')).toBe('abc');
    expect(bearerToken('Basic abc')).toBeUndefined();
    expect(bearerToken(undefined)).toBeUndefined();
  });

  it('compare in constant time, length included', () => {
    expect(safeEqual('secret-token', 'secret-token')).toBe(true);
    expect(safeEqual('secret-token', 'secret-tokex')).toBe(false);
    expect(safeEqual('short', 'longer-value')).toBe(false);
  });
});
