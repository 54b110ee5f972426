import type { FetchLike } from '@modelcontextprotocol/sdk/shared/transport.js';
import { fetch as undiciFetch, type Dispatcher, type RequestInit as UndiciRequestInit } from 'undici';
import { boundMessage, networkErrorMessage } from './errors';
import { stepForMethod } from './protocol-steps';
import type { StepRecorder } from './step-recorder';
import type { McpProbeStepName, McpTransportKind } from './types';

export interface RecordingFetchOptions {
  recorder: StepRecorder;
  transport: McpTransportKind;
  /** Owned by the probe and destroyed when it ends, so no socket outlives a probe. */
  dispatcher: Dispatcher;
  /** The probe's deadline; the SDK passes its own signal, which only fires on close(). */
  signal: AbortSignal;
}


/** A fetch for the SDK transports that notes HTTP status and content type on the step it serves. */
export function createRecordingFetch(opts: RecordingFetchOptions): FetchLike {
  return async (url, init) => {
    const step = stepOf(init, opts.transport);
    const record = step === undefined ? undefined : opts.recorder.open(step);
    const signals = init?.signal ? [init.signal, opts.signal] : [opts.signal];
    try {
      const response = await undiciFetch(url, {
        ...(init as UndiciRequestInit),
        signal: AbortSignal.any(signals),
        dispatcher: opts.dispatcher,
      });
      if (record) {
        record.http_status = response.status;
        record.content_type = response.headers.get('content-type') ?? undefined;
      }
      // undici's Response is the implementation behind Node's global one; only the typings differ.
      return response as unknown as Response;
    } catch (err) {
      // An aborted request is the deadline or close(), not evidence about the server.
      const aborted = signals.some((s) => s.aborted);
      if (record && !aborted) record.error = boundMessage(networkErrorMessage(err));
      throw err;
    }
  };
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
