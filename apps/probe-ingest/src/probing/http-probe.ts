import type { LookupFunction } from 'node:net';
import { Agent, request } from 'undici';
import type { FailureLayer } from '@tocsin/contracts';

export interface ProbeOutcome {
  readonly ok: boolean;
  readonly failure_layer?: FailureLayer;
  readonly error?: string;
  readonly latency_ms: number;
  readonly http_status?: number;
  readonly tools_hash?: string;
  readonly tools?: Array<{ name: string; description?: string; inputSchema?: unknown }>;
}

/** A plain HTTP service: a 2xx answer within the timeout is up; anything else says which layer failed. */
export interface HttpProbeOptions {
  readonly timeoutMs: number;
  readonly headers?: Record<string, string>;
  /** The connection pool to use, e.g. one whose connect-time lookup refuses private addresses. */
  readonly dispatcher?: Agent;
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
    await res.body.dump();
    if (res.statusCode >= 200 && res.statusCode < 300) return { ok: true, latency_ms: latency(), http_status: res.statusCode };
    return { ok: false, failure_layer: 'http', error: `HTTP ${res.statusCode}`, latency_ms: latency(), http_status: res.statusCode };
  } catch (err) {
    const cause = (err as { cause?: Error }).cause;
    const message = `${(err as Error).message}${cause ? `: ${cause.message}` : ''}`.slice(0, 300);
    return { ok: false, failure_layer: 'transport', error: message, latency_ms: latency() };
  }
}

export function guardedAgent(lookup: LookupFunction): Agent {
  return new Agent({ connect: { lookup } });
}
