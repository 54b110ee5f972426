import type { FetchLike } from '@modelcontextprotocol/sdk/shared/transport.js';
import { fetch as undiciFetch, Response as UndiciResponse, type Dispatcher, type RequestInit as UndiciRequestInit } from 'undici';
import { isBearerChallenge } from './auth-challenge';
import { boundMessage, networkErrorMessage } from './errors';
import { stepForMethod } from './protocol-steps';
import { RedirectNotFollowedError, redirectMessage, type ResponseBudget, type ResponseTooLargeError } from './response-budget';
import type { StepRecord, StepRecorder } from './step-recorder';
import type { McpProbeStepName, McpTransportKind } from './types';

export interface RecordingFetchOptions {
  recorder: StepRecorder;
  transport: McpTransportKind;
  /** Owned by the probe and destroyed when it ends, so no socket outlives a probe. */
  dispatcher: Dispatcher;
  /** The probe's deadline; the SDK passes its own signal, which only fires on close(). */
  signal: AbortSignal;
  /** Shared by every reply of the attempt. */
  budget: ResponseBudget;
  /** Told once the budget is spent, so the attempt stops at once rather than at its deadline. */
  onTooLarge: (err: ResponseTooLargeError) => void;
}

/** Statuses whose response has no body, which a Response cannot be built around. */
const NULL_BODY_STATUSES: ReadonlySet<number> = new Set([101, 103, 204, 205, 304]);

/**
 * A fetch for the SDK transports that notes HTTP status and content type on the step it
 * serves, never follows a redirect (it fails the step instead, so neither the SDK nor
 * undici sends the monitor's headers on), and stops reading past the attempt's budget.
 */
export function createRecordingFetch(opts: RecordingFetchOptions): FetchLike {
  return async (url, init) => {
    const step = stepOf(init, opts.transport);
    const record = step === undefined ? undefined : opts.recorder.open(step);
    const signals = init?.signal ? [init.signal, opts.signal] : [opts.signal];
    let response: UndiciResponse;
    try {
      response = await undiciFetch(url, {
        ...(init as UndiciRequestInit),
        signal: AbortSignal.any(signals),
        dispatcher: opts.dispatcher,
        redirect: 'manual',
      });
    } catch (err) {
      // An aborted request is the deadline or close(), not evidence about the server.
      const aborted = signals.some((s) => s.aborted);
      if (record && !aborted) record.error = boundMessage(networkErrorMessage(err));
      throw err;
    }
    if (record) {
      record.http_status = response.status;
      record.content_type = response.headers.get('content-type') ?? undefined;
      if (response.status === 401) record.bearer_challenge = isBearerChallenge(response.headers.get('www-authenticate'));
    }
    if (response.status >= 300 && response.status <= 399 && response.status !== 304) {
      const message = boundMessage(redirectMessage(response.status, response.headers.get('location'), url));
      if (record) record.error = message;
      await response.body?.cancel().catch(() => undefined);
      throw new RedirectNotFollowedError(message);
    }
    // undici's Response is the implementation behind Node's global one; only the typings differ.
    return bounded(response, record, opts) as unknown as Response;
  };
}

/** The same response, its body erroring (and the rest left unread) once the budget is spent. */
function bounded(response: UndiciResponse, record: StepRecord | undefined, opts: RecordingFetchOptions): UndiciResponse {
  if (!response.body || NULL_BODY_STATUSES.has(response.status)) return response;
  const { budget, recorder, onTooLarge } = opts;
  const limited = response.body.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        const tooLarge = budget.take(chunk.byteLength);
        if (!tooLarge) return controller.enqueue(chunk);
        // A legacy SSE stream outlives its connect step: the error belongs to the step it was serving.
        const target = record && record.endedAt === undefined ? record : recorder.current();
        if (target) target.error = tooLarge.message;
        controller.error(tooLarge);
        onTooLarge(tooLarge);
      },
    }),
  );
  return new UndiciResponse(limited as ConstructorParameters<typeof UndiciResponse>[0], {
    status: response.status,
    statusText: response.statusText,
    headers: response.headers,
  });
}

function stepOf(init: RequestInit | undefined, transport: McpTransportKind): McpProbeStepName | undefined {
  const method = (init?.method ?? 'GET').toUpperCase();
  if (method === 'GET') return transport === 'sse' ? 'sse-connect' : undefined;
  if (method !== 'POST' || typeof init?.body !== 'string') return undefined;
  const rpcMethod = jsonRpcMethod(init.body);
  return rpcMethod === undefined ? undefined : stepForMethod(rpcMethod);
}

function jsonRpcMethod(body: string): string | undefined {
  try {
    const parsed: unknown = JSON.parse(body);
    const message: unknown = Array.isArray(parsed) ? parsed[0] : parsed;
    if (typeof message !== 'object' || message === null) return undefined;
    const method = (message as { method?: unknown }).method;
    return typeof method === 'string' ? method : undefined;
  } catch {
    return undefined;
  }
}
