import { boundMessage, errorMessage } from './errors';
import { layerOfStep } from './protocol-steps';
import type { StepRecord } from './step-recorder';
import type { McpFailureLayer, McpTransportKind } from './types';

export interface FailureEvidence {
  /** The step the probe was in when it stopped (see StepRecorder.current). */
  step: StepRecord | undefined;
  transport: McpTransportKind;
  timedOut: boolean;
  timeoutMs: number;
  /** Whether any HTTP response arrived in this transport attempt. */
  answered: boolean;
  /** What the SDK threw; only used for the message when the record has none. */
  cause: unknown;
}

export interface ClassifiedFailure {
  layer: McpFailureLayer;
  error: string;
  http_status?: number;
}

/** Derives the layer from recorded evidence: HTTP status, content type, JSON-RPC reply, timing. */
export function classifyFailure(evidence: FailureEvidence): ClassifiedFailure {
  const { step } = evidence;
  if (!step) return { layer: 'transport', error: boundMessage(errorMessage(evidence.cause)) };
  const httpProblem = httpProblemOf(step, evidence.transport);
  if (httpProblem) return { layer: 'http', http_status: step.http_status, error: boundMessage(httpProblem) };
  if (evidence.timedOut) return classifyTimeout(step, evidence);
  const detail = step.error ?? errorMessage(evidence.cause);
  if (step.http_status === undefined) return { layer: 'transport', error: boundMessage(`${step.step}: ${detail}`) };
  return {
    layer: layerOfStep(step.step),
    http_status: step.http_status,
    error: boundMessage(`${step.step} failed: ${detail}`),
  };
}

/** Before any HTTP answer nothing above TCP/TLS is proven, so the wait is the transport's. */
function classifyTimeout(step: StepRecord, evidence: FailureEvidence): ClassifiedFailure {
  const layer = evidence.answered ? layerOfStep(step.step) : 'transport';
  const unanswered = step.http_status === undefined ? ' (no HTTP response)' : '';
  return {
    layer,
    http_status: step.http_status,
    error: boundMessage(`timed out after ${evidence.timeoutMs} ms waiting for ${step.step}${unanswered}`),
  };
}

function httpProblemOf(step: StepRecord, transport: McpTransportKind): string | undefined {
  const status = step.http_status;
  if (status === undefined) return undefined;
  // The stateless HTTP binding answers protocol errors (e.g. -32022, unsupported version) with
  // 400 and a JSON-RPC error body: that is the protocol speaking, not HTTP failing.
  if (status === 400 && step.jsonrpc_code !== undefined) return undefined;
  if (status < 200 || status > 299) {
    const detail = step.error ? `: ${step.error}` : '';
    return `HTTP ${status} on ${step.step}${detail}`;
  }
  const expected = expectedContentTypes(step, transport);
  const actual = mediaType(step.content_type);
  if (expected && !expected.includes(actual)) {
    return `unexpected content type "${step.content_type ?? ''}" on ${step.step} (HTTP ${status})`;
  }
  return undefined;
}

/** Undefined where the transport allows any (202 Accepted, legacy POSTs that reply on the stream). */
function expectedContentTypes(step: StepRecord, transport: McpTransportKind): readonly string[] | undefined {
  if (step.step === 'sse-connect') return ['text/event-stream'];
  if (transport === 'sse' || step.step === 'initialized' || step.http_status === 202) return undefined;
  return ['application/json', 'text/event-stream'];
}

function mediaType(contentType: string | undefined): string {
  return (contentType ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
}
