import { HttpException, HttpStatus } from '@nestjs/common';

/** Buckets kept at most: keys by client address are the caller's to invent, so the map is bounded. */
export const MAX_BUCKETS = 100_000;

/**
 * Per-key token buckets: `perSecond` requests a second on average, bursts up to `burst`.
 * Keys are API key ids, and client addresses or receiver tokens for the routes that have no
 * key yet (unknown keys, the incoming-hook route). In memory, per API process: with N
 * replicas a key may reach N times the rate.
 */
export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(
    readonly perSecond: number,
    readonly burst: number,
    private readonly maxBuckets = MAX_BUCKETS,
  ) {}

  private refilled(key: string, now: number): { tokens: number; at: number } {
    const bucket = this.buckets.get(key) ?? { tokens: this.burst, at: now };
    bucket.tokens = Math.min(this.burst, bucket.tokens + (Math.max(0, now - bucket.at) / 1000) * this.perSecond);
    bucket.at = now;
    // Re-inserted so the map's order is least recently used first; past the bound the
    // oldest bucket goes (it would have refilled to nearly full anyway).
    this.buckets.delete(key);
    this.buckets.set(key, bucket);
    if (this.buckets.size > this.maxBuckets) this.buckets.delete(this.buckets.keys().next().value!);
    return bucket;
  }

  private waitFor(tokens: number): number {
    return Math.max(1, Math.ceil((1 - tokens) / this.perSecond));
  }

  /**
   * Takes `count` tokens for `key` (none unless all of them are there): 0 when the work may
   * go on, else the seconds to wait until they are. `count` is at most `burst`.
   */
  take(key: string, now = Date.now(), count = 1): number {
    if (this.perSecond <= 0) return 0;
    const bucket = this.refilled(key, now);
    if (bucket.tokens >= count) {
      bucket.tokens -= count;
      return 0;
    }
    return this.waitFor(bucket.tokens - count + 1);
  }

  /** Like {@link take} without taking: whether `key` is out of tokens now, so the work can be skipped too. */
  peek(key: string, now = Date.now()): number {
    if (this.perSecond <= 0 || !this.buckets.has(key)) return 0;
    const bucket = this.refilled(key, now);
    return bucket.tokens >= 1 ? 0 : this.waitFor(bucket.tokens);
  }

  forget(key: string): void {
    this.buckets.delete(key);
  }
}

export const RATE_LIMITER = Symbol('RATE_LIMITER');

/** What a limit counts (`requests` unless said), and for a quota the field it is named by and what the refusal left undone. */
export interface LimitWording {
  readonly unit?: string;
  readonly field?: string;
  readonly refused?: string;
}

/** The 429 every rate-limited route answers, with Retry-After set by the caller. */
export function tooManyRequests(wait: number, limiter: RateLimiter, per: string, { unit = 'requests', field, refused }: LimitWording = {}): HttpException {
  const rate = `${limiter.perSecond} ${unit}/s`;
  return new HttpException(
    {
      statusCode: HttpStatus.TOO_MANY_REQUESTS,
      error: 'Too Many Requests',
      message: `${field ? `${field}: ` : ''}rate limit of ${rate} (bursts of ${limiter.burst}) per ${per} exceeded; ${refused ? `${refused}; ` : ''}retry after ${wait}s`,
      ...(field ? { details: [{ field, message: `at most ${rate}` }] } : {}),
    },
    HttpStatus.TOO_MANY_REQUESTS,
  );
}

/** The client address a limit is keyed by: the socket's peer (Tocsin sets no `trust proxy`). */
export function clientAddress(req: { ip?: string; socket: { remoteAddress?: string } }): string {
  return req.ip ?? req.socket.remoteAddress ?? 'unknown';
}
