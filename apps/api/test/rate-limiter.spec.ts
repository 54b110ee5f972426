import { RateLimiter } from '../src/auth/rate-limiter';

describe('per-key rate limiting', () => {
  it('lets a burst through, then asks the caller to wait, then refills', () => {
    const limiter = new RateLimiter(2, 3);
    const t0 = 1_000_000;
    expect([1, 2, 3].map(() => limiter.take('k', t0))).toEqual([0, 0, 0]);
    expect(limiter.take('k', t0)).toBe(1);
    expect(limiter.take('k', t0 + 500)).toBe(0);
    expect(limiter.take('k', t0 + 500)).toBe(1);
  });

  it('takes many tokens at once or none, and says how long until all of them are there', () => {
    const limiter = new RateLimiter(10, 100);
    expect(limiter.take('t', 0, 100)).toBe(0);
    // 50 tokens at 10 a second: 5 s, and a refused take leaves the bucket as it was.
    expect(limiter.take('t', 0, 50)).toBe(5);
    expect(limiter.take('t', 1000, 50)).toBe(4);
    expect(limiter.take('t', 5000, 50)).toBe(0);
    expect(limiter.take('t', 5000, 1)).toBe(1);
  });

  it('keeps one bucket per key', () => {
    const limiter = new RateLimiter(1, 1);
    expect(limiter.take('a', 0)).toBe(0);
    expect(limiter.take('a', 0)).toBe(1);
    expect(limiter.take('b', 0)).toBe(0);
  });

  it('is off at zero requests a second', () => {
    const limiter = new RateLimiter(0, 0);
    expect(Array.from({ length: 100 }, () => limiter.take('k'))).toEqual(Array(100).fill(0));
  });

  it('peeks without taking, and only at keys it has seen', () => {
    const limiter = new RateLimiter(1, 1);
    expect(limiter.peek('a', 0)).toBe(0);
    expect(limiter.take('a', 0)).toBe(0);
    expect(limiter.peek('a', 0)).toBe(1);
    expect(limiter.peek('a', 0)).toBe(1);
    expect(limiter.peek('a', 1000)).toBe(0);
  });

  it('keeps at most its bound of buckets, dropping the least recently used', () => {
    const limiter = new RateLimiter(1, 1, 2);
    limiter.take('a', 0);
    limiter.take('b', 0);
    limiter.take('a', 0);
    limiter.take('c', 0);
    // b was the least recently used: forgotten, so it starts full again; a is still empty.
    expect(limiter.take('b', 0)).toBe(0);
    expect(limiter.peek('c', 0)).toBe(1);
  });
});
