import { judgeAttempt, parseRetryAfter } from '../src/deliveries/attempt-outcome';

const schedule = [0, 30, 120, 600, 1800];
const now = new Date('2026-01-01T00:00:00Z');
const response = (status: number, retryAfter?: string) => ({ kind: 'response' as const, status, retryAfter });

describe('judgeAttempt', () => {
  it('delivers on 2xx', () => {
    expect(judgeAttempt(response(204), 1, schedule, now)).toEqual({ kind: 'delivered' });
  });

  it('delivers what a cluster acknowledged; retries what it could not take now, dead-letters what it refused', () => {
    expect(judgeAttempt({ kind: 'accepted' }, 1, schedule, now)).toEqual({ kind: 'delivered' });
    expect(judgeAttempt({ kind: 'error', errorClass: 'kafka_unavailable', message: 'no leader' }, 1, schedule, now)).toMatchObject({ kind: 'retry', delaySeconds: 30 });
    expect(judgeAttempt({ kind: 'error', errorClass: 'smtp_deferred', message: '451' }, 1, schedule, now)).toMatchObject({ kind: 'retry' });
    for (const errorClass of ['kafka_rejected', 'smtp_rejected'] as const) {
      expect(judgeAttempt({ kind: 'error', errorClass, message: 'no' }, 1, schedule, now)).toMatchObject({ kind: 'dead_letter', errorClass });
    }
  });

  it('retries 5xx on the schedule and dead-letters when it runs out', () => {
    expect(judgeAttempt(response(503), 1, schedule, now)).toMatchObject({ kind: 'retry', delaySeconds: 30 });
    expect(judgeAttempt(response(503), 4, schedule, now)).toMatchObject({ kind: 'retry', delaySeconds: 1800 });
    expect(judgeAttempt(response(503), 5, schedule, now)).toMatchObject({ kind: 'dead_letter', errorClass: 'http_5xx' });
  });

  it('treats other 4xx and redirects as permanent', () => {
    expect(judgeAttempt(response(400), 1, schedule, now)).toMatchObject({ kind: 'dead_letter', errorClass: 'http_4xx' });
    expect(judgeAttempt(response(302), 1, schedule, now)).toMatchObject({ kind: 'dead_letter', errorClass: 'redirect' });
  });

  it('retries 408/429 honouring a longer Retry-After', () => {
    expect(judgeAttempt(response(429, '90'), 1, schedule, now)).toMatchObject({ kind: 'retry', delaySeconds: 90 });
    expect(judgeAttempt(response(408, '5'), 1, schedule, now)).toMatchObject({ kind: 'retry', delaySeconds: 30 });
  });

  it('disables the endpoint on 410', () => {
    expect(judgeAttempt(response(410), 1, schedule, now)).toMatchObject({ kind: 'dead_letter', disableEndpoint: true });
  });

  it('retries timeouts and connection errors, never SSRF refusals', () => {
    const error = (errorClass: 'timeout' | 'connection' | 'ssrf_blocked') => ({ kind: 'error' as const, errorClass, message: 'x' });
    expect(judgeAttempt(error('timeout'), 2, schedule, now)).toMatchObject({ kind: 'retry', delaySeconds: 120 });
    expect(judgeAttempt(error('connection'), 1, schedule, now)).toMatchObject({ kind: 'retry' });
    expect(judgeAttempt(error('ssrf_blocked'), 1, schedule, now)).toMatchObject({ kind: 'dead_letter' });
  });
});

describe('parseRetryAfter', () => {
  it('reads seconds and HTTP dates, capped at an hour', () => {
    expect(parseRetryAfter('120', now)).toBe(120);
    expect(parseRetryAfter(new Date(now.getTime() + 45_000).toUTCString(), now)).toBe(45);
    expect(parseRetryAfter('999999', now)).toBe(3600);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
  });
});

describe('an endpoint secret the keys cannot open', () => {
  it('is retried on the schedule, then dead-lettered with the reason', () => {
    const result = { kind: 'error', errorClass: 'secret_unreadable', message: 'endpoint secret cannot be opened: sealed with key k1' } as const;
    expect(judgeAttempt(result, 1, [0, 10, 60], new Date())).toEqual({ kind: 'retry', errorClass: 'secret_unreadable', delaySeconds: 10 });
    expect(judgeAttempt(result, 3, [0, 10, 60], new Date())).toMatchObject({ kind: 'dead_letter', errorClass: 'secret_unreadable' });
  });
});
