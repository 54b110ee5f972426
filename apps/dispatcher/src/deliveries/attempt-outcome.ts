import type { AttemptErrorClass } from '@tocsin/contracts';

export type HttpResult =
  | { kind: 'response'; status: number; retryAfter?: string | undefined }
  /** Taken by a destination that answers no HTTP status (a Kafka cluster's acknowledgement). */
  | { kind: 'accepted' }
  | {
      kind: 'error';
      errorClass: Extract<AttemptErrorClass, 'timeout' | 'connection' | 'ssrf_blocked' | 'invalid_url' | 'secret_unreadable' | 'smtp_deferred' | 'smtp_rejected' | 'kafka_unavailable' | 'kafka_rejected'>;
      message: string;
    };

export type Verdict =
  | { kind: 'delivered' }
  | { kind: 'retry'; errorClass: AttemptErrorClass; delaySeconds: number }
  | { kind: 'dead_letter'; errorClass: AttemptErrorClass; reason: string; disableEndpoint: boolean };

const MAX_RETRY_AFTER_SECONDS = 3600;

export function parseRetryAfter(value: string | undefined, now: Date): number | undefined {
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return Math.min(seconds, MAX_RETRY_AFTER_SECONDS);
  const date = Date.parse(value);
  if (Number.isNaN(date)) return undefined;
  return Math.min(Math.max(0, Math.ceil((date - now.getTime()) / 1000)), MAX_RETRY_AFTER_SECONDS);
}

/**
 * DESIGN §5 retry rules, decided at the edge from the attempt's class and count:
 * 2xx delivered; 410 disables the endpoint; other 4xx (but 408/429) and redirects are
 * permanent; 5xx, 408/429, timeouts and connection errors follow the endpoint's schedule.
 */
export function judgeAttempt(result: HttpResult, attempt: number, schedule: readonly number[], now: Date): Verdict {
  const exhausted = (errorClass: AttemptErrorClass, what: string): Verdict => ({
    kind: 'dead_letter',
    errorClass,
    reason: `${what}; gave up after ${attempt} attempt(s)`,
    disableEndpoint: false,
  });
  const retry = (errorClass: AttemptErrorClass, what: string, atLeast = 0): Verdict => {
    const next = schedule[attempt];
    if (next === undefined) return exhausted(errorClass, what);
    return { kind: 'retry', errorClass, delaySeconds: Math.max(next, atLeast) };
  };

  if (result.kind === 'accepted') return { kind: 'delivered' };
  if (result.kind === 'error') {
    // An unreadable secret is the operator's to fix (a key dropped from TOCSIN_ENCRYPTION_KEY):
    // the schedule gives them its length before the delivery is dead-lettered.
    // A mail server's 4xx is its way of saying "later" (greylisting, a full queue).
    if (['timeout', 'connection', 'secret_unreadable', 'smtp_deferred', 'kafka_unavailable'].includes(result.errorClass)) {
      return retry(result.errorClass, result.message);
    }
    return { kind: 'dead_letter', errorClass: result.errorClass, reason: result.message, disableEndpoint: false };
  }
  const { status } = result;
  if (status >= 200 && status < 300) return { kind: 'delivered' };
  if (status === 410) return { kind: 'dead_letter', errorClass: 'http_410', reason: 'HTTP 410 Gone: endpoint disabled', disableEndpoint: true };
  if (status === 408 || status === 429) {
    return retry('http_408_429', `HTTP ${status}`, parseRetryAfter(result.retryAfter, now) ?? 0);
  }
  if (status >= 300 && status < 400) {
    return { kind: 'dead_letter', errorClass: 'redirect', reason: `HTTP ${status}: redirects are not followed`, disableEndpoint: false };
  }
  if (status >= 400 && status < 500) {
    return { kind: 'dead_letter', errorClass: 'http_4xx', reason: `HTTP ${status}: permanent failure`, disableEndpoint: false };
  }
  return retry('http_5xx', `HTTP ${status}`);
}
