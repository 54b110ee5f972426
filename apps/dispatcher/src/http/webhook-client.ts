import { Agent, errors, type Dispatcher } from 'undici';
import type { HttpResult } from '../deliveries/attempt-outcome';
import { storableText, storableUtf8 } from '@tocsin/contracts';
import { SsrfBlockedError, SsrfPolicy, type AllowedCidr } from '@tocsin/net-guard';

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

/**
 * Sends one attempt: never follows redirects (undici's dispatch has no redirect handling;
 * a 3xx is an answer, judged as a permanent failure), bounds the response it reads,
 * classifies errors.
 */
export class WebhookClient {
  private readonly agent: Agent;
  private readonly policy: SsrfPolicy | undefined;

  /**
   * One keep-alive pool per origin (undici's Agent), as wide as the worker's concurrency.
   * Unless private targets are allowed, every connection goes through the SSRF policy's
   * connector (IP literals, resolved names and the connected address are all judged),
   * with `allowedCidrs` (TOCSIN_ALLOWED_PRIVATE_CIDRS) let through.
   */
  constructor(allowPrivate: boolean, connectionsPerOrigin = 64, allowedCidrs: readonly AllowedCidr[] = []) {
    this.policy = allowPrivate ? undefined : new SsrfPolicy(allowedCidrs);
    const options = { keepAliveTimeout: 30_000, keepAliveMaxTimeout: 60_000, connections: connectionsPerOrigin };
    this.agent = this.policy ? this.policy.agent(options) : new Agent(options);
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
    // The connector refuses it too; answering here saves queueing behind the pool.
    const refused = this.policy?.hostBlockReason(url.hostname);
    if (refused) {
      const message = `refused to connect: ${refused}`;
      return { result: { kind: 'error', errorClass: 'ssrf_blocked', message }, durationMs: 0, snippet: null };
    }
    return new Promise<WebhookResponse>((resolve) => {
      const attempt = new AttemptHandler(req.timeoutMs, (result, snippet) => resolve({ result, durationMs: elapsed(), snippet }));
      this.agent.dispatch(
        {
          origin: url.origin,
          path: url.pathname + url.search,
          method: req.method as Dispatcher.HttpMethod,
          headers: req.headers,
          body: req.body,
          headersTimeout: req.timeoutMs,
          bodyTimeout: req.timeoutMs,
        },
        attempt,
      );
    });
  }

  async close(): Promise<void> {
    await this.agent.close();
  }
}

/**
 * One attempt, straight on undici's dispatch hooks: the response is read into a bounded
 * snippet as it arrives, with no stream or promise per response, and the whole attempt
 * (connect and queueing included) is cut at its deadline.
 */
class AttemptHandler implements Dispatcher.DispatchHandler {
  private abortRequest: ((err: Error) => void) | null = null;
  private status = 0;
  private retryAfter: string | undefined;
  private readonly chunks: Buffer[] = [];
  private size = 0;
  private settled = false;
  private readonly deadline: NodeJS.Timeout;

  constructor(
    timeoutMs: number,
    private readonly settle: (result: HttpResult, snippet: string | null) => void,
  ) {
    this.deadline = setTimeout(() => this.abort(new AttemptTimeoutError(`attempt exceeded its ${timeoutMs} ms timeout`)), timeoutMs);
  }

  /** Called just before the request is written; an attempt already past its deadline is never sent. */
  onConnect(abort: (err?: Error) => void): void {
    this.abortRequest = abort;
    if (this.settled) abort(new AttemptTimeoutError('attempt exceeded its timeout before it was sent'));
  }

  onHeaders(statusCode: number, rawHeaders: Buffer[]): boolean {
    if (statusCode < 200) return true; // an informational response; the real one follows
    this.status = statusCode;
    for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
      if (rawHeaders[i]!.length === 11 && rawHeaders[i]!.toString('latin1').toLowerCase() === 'retry-after') {
        this.retryAfter = rawHeaders[i + 1]!.toString('latin1');
      }
    }
    return true;
  }

  onData(chunk: Buffer): boolean {
    this.chunks.push(chunk);
    this.size += chunk.length;
    // Enough to show what the receiver said: the rest is not read.
    if (this.size >= SNIPPET_BYTES) {
      this.respond();
      this.abortRequest?.(new SnippetReadError());
    }
    return true;
  }

  onComplete(): void {
    this.respond();
  }

  onError(err: Error): void {
    this.finish(classifyError(err), null);
  }

  private abort(err: Error): void {
    if (this.settled) return;
    // Not yet sent (still connecting or queued): settle now; onConnect drops the request.
    if (this.abortRequest) this.abortRequest(err);
    else this.finish(classifyError(err), null);
  }

  private respond(): void {
    // The receiver's bytes, cut on a character boundary and cleaned: the snippet is stored.
    const snippet = storableUtf8(Buffer.concat(this.chunks, Math.min(this.size, SNIPPET_BYTES)), SNIPPET_BYTES);
    this.finish({ kind: 'response', status: this.status, retryAfter: this.retryAfter }, snippet);
  }

  private finish(result: HttpResult, snippet: string | null): void {
    if (this.settled) return;
    this.settled = true;
    clearTimeout(this.deadline);
    this.settle(result, snippet);
  }
}

class AttemptTimeoutError extends Error {
  override readonly name = 'TimeoutError';
}

class SnippetReadError extends Error {
  override readonly name = 'SnippetReadError';
}

function classifyError(err: unknown): HttpResult {
  const cause = (err as { cause?: unknown }).cause;
  if (err instanceof SsrfBlockedError || cause instanceof SsrfBlockedError) {
    const blocked = err instanceof SsrfBlockedError ? err : (cause as SsrfBlockedError);
    return { kind: 'error', errorClass: 'ssrf_blocked', message: storableText(blocked.message, 500) };
  }
  const timedOut =
    err instanceof errors.HeadersTimeoutError ||
    err instanceof errors.BodyTimeoutError ||
    err instanceof errors.ConnectTimeoutError ||
    (err as Error).name === 'TimeoutError' ||
    (err as Error).name === 'AbortError';
  const message = err instanceof Error ? `${err.message}${cause instanceof Error ? `: ${cause.message}` : ''}` : String(err);
  return { kind: 'error', errorClass: timedOut ? 'timeout' : 'connection', message: storableText(message, 500) };
}
