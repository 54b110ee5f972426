import { request, type Dispatcher } from 'undici';
import { storableText, type FailureLayer, type ProbeAuth } from '@tocsin/contracts';

export interface ProbeOutcome {
  readonly ok: boolean;
  /** MCP only: an OAuth-protected server that answered with its Bearer challenge (ok, no tools). */
  readonly auth?: ProbeAuth;
  readonly failure_layer?: FailureLayer;
  readonly error?: string;
  readonly latency_ms: number;
  readonly http_status?: number;
  readonly tools_hash?: string;
  readonly tools?: Array<{ name: string; hash: string }>;
}

/** Most of an answer's body a probe reads (and throws away) before closing the connection. */
const MAX_DUMP_BYTES = 64 * 1024;

/**
 * A plain HTTP service: the expected status (any 2xx unless one is set) within the timeout
 * is up; anything else says which layer failed. Redirects are not followed (undici's
 * `request` never follows one): a 301 is an answer, and may be the expected one, and the
 * monitor's headers go to its own URL only.
 */
export interface HttpProbeOptions {
  readonly timeoutMs: number;
  readonly expectedStatus?: number;
  readonly headers?: Record<string, string>;
  /** The connection pool to use, e.g. an SSRF guard's, which checks every connection. */
  readonly dispatcher?: Dispatcher;
}

export async function probeHttpService(url: string, options: HttpProbeOptions): Promise<ProbeOutcome> {
  const started = performance.now();
  const latency = () => Math.round(performance.now() - started);
  try {
    const res = await request(url, {
      method: 'GET',
      headers: { 'user-agent': 'Tocsin-probe', ...options.headers },
      signal: AbortSignal.timeout(options.timeoutMs),
      ...(options.dispatcher ? { dispatcher: options.dispatcher } : {}),
      headersTimeout: options.timeoutMs,
      bodyTimeout: options.timeoutMs,
    });
    await res.body.dump({ limit: MAX_DUMP_BYTES });
    const expected = options.expectedStatus;
    const up = expected === undefined ? res.statusCode >= 200 && res.statusCode < 300 : res.statusCode === expected;
    if (up) return { ok: true, latency_ms: latency(), http_status: res.statusCode };
    const wanted = expected === undefined ? 'a 2xx' : `${expected}`;
    return { ok: false, failure_layer: 'http', error: `HTTP ${res.statusCode}, expected ${wanted}`, latency_ms: latency(), http_status: res.statusCode };
  } catch (err) {
    const cause = (err as { cause?: Error }).cause;
    const message = storableText(`${(err as Error).message}${cause ? `: ${cause.message}` : ''}`, 300);
    return { ok: false, failure_layer: 'transport', error: message, latency_ms: latency() };
  }
}
