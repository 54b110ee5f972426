import { Agent, errors, request } from 'undici';
import type { HttpResult } from '../deliveries/attempt-outcome';
import { guardedLookup, isPrivateAddress, SsrfBlockedError } from '@tocsin/net-guard';

export interface WebhookRequest {
  readonly url: string;
  readonly method: string;
  readonly headers: Record<string, string>;
  readonly body: string;
  readonly timeoutMs: number;
}

export interface WebhookResponse {
  readonly result: HttpResult;
  readonly durationMs: number;
  readonly snippet: string | null;
}

const SNIPPET_BYTES = 1024;

/** Sends one attempt: never follows redirects, bounds the response it reads, classifies errors. */
export class WebhookClient {
  private readonly agent: Agent;

  /** One keep-alive pool per origin (undici's Agent), as wide as the worker's concurrency. */
  constructor(
    private readonly allowPrivate: boolean,
    connectionsPerOrigin = 64,
  ) {
    this.agent = new Agent({
      connect: allowPrivate ? {} : { lookup: guardedLookup },
      keepAliveTimeout: 30_000,
      keepAliveMaxTimeout: 60_000,
      connections: connectionsPerOrigin,
    });
  }

  async send(req: WebhookRequest): Promise<WebhookResponse> {
    const started = performance.now();
    const elapsed = () => Math.round(performance.now() - started);
    let url: URL;
    try {
      url = new URL(req.url);
      if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new TypeError(`unsupported scheme ${url.protocol}`);
    } catch (err) {
      return { result: { kind: 'error', errorClass: 'invalid_url', message: (err as Error).message }, durationMs: 0, snippet: null };
    }
    const host = url.hostname.replace(/^\[|\]$/g, '');
    if (!this.allowPrivate && isPrivateAddress(host)) {
      const message = `${host} is a non-public address`;
      return { result: { kind: 'error', errorClass: 'ssrf_blocked', message }, durationMs: 0, snippet: null };
    }
    try {
      const res = await request(url, {
        method: req.method as 'POST',
        headers: req.headers,
        body: req.body,
        dispatcher: this.agent,
        headersTimeout: req.timeoutMs,
        bodyTimeout: req.timeoutMs,
        signal: AbortSignal.timeout(req.timeoutMs),
      });
      const snippet = await readSnippet(res.body);
      const retryAfter = res.headers['retry-after'];
      return {
        result: { kind: 'response', status: res.statusCode, retryAfter: Array.isArray(retryAfter) ? retryAfter[0] : retryAfter },
        durationMs: elapsed(),
        snippet,
      };
    } catch (err) {
      return { result: classifyError(err), durationMs: elapsed(), snippet: null };
    }
  }

  async close(): Promise<void> {
    await this.agent.close();
  }
}

async function readSnippet(body: AsyncIterable<Buffer> & { destroy(): unknown }): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    chunks.push(chunk);
    size += chunk.length;
    if (size >= SNIPPET_BYTES) {
      body.destroy();
      break;
    }
  }
  return Buffer.concat(chunks).subarray(0, SNIPPET_BYTES).toString('utf8');
}

function classifyError(err: unknown): HttpResult {
  const cause = (err as { cause?: unknown }).cause;
  if (err instanceof SsrfBlockedError || cause instanceof SsrfBlockedError) {
    return { kind: 'error', errorClass: 'ssrf_blocked', message: ((cause ?? err) as Error).message };
  }
  const timedOut =
    err instanceof errors.HeadersTimeoutError ||
    err instanceof errors.BodyTimeoutError ||
    err instanceof errors.ConnectTimeoutError ||
    (err as Error).name === 'TimeoutError' ||
    (err as Error).name === 'AbortError';
  const message = err instanceof Error ? `${err.message}${cause instanceof Error ? `: ${cause.message}` : ''}` : String(err);
  return { kind: 'error', errorClass: timedOut ? 'timeout' : 'connection', message: message.slice(0, 500) };
}
