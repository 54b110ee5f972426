import { performance } from 'node:perf_hooks';
import { fetch as undiciFetch } from 'undici';
import { isAuthGate, isBearerChallenge } from './auth-challenge';
import { boundMessage, errorMessage, networkErrorMessage } from './errors';
import { isStatelessVersion, STATELESS_VERSIONS } from './generation';
import type { AttemptResult, ProbeContext, ProbedTool } from './handshake-probe';
import { MAX_TOOLS, RedirectNotFollowedError, redirectMessage, ResponseBudget } from './response-budget';
import type { StepRecord } from './step-recorder';
import type { McpProbeStepName } from './types';

const META = {
  protocolVersion: 'io.modelcontextprotocol/protocolVersion',
  clientInfo: 'io.modelcontextprotocol/clientInfo',
  clientCapabilities: 'io.modelcontextprotocol/clientCapabilities',
} as const;

/** The -32022 error a stateless server answers when it speaks none of the requested versions. */
const UNSUPPORTED_PROTOCOL_VERSION = -32022;

const CLIENT_INFO = { name: 'tocsin-probe', version: '0.1.0' };
const MAX_TOOL_PAGES = 100;

type JsonRpcReply =
  | { kind: 'result'; result: Record<string, unknown> }
  /** `answersRequest`: it carries the request's id, not null (a reply to a message the server could not read). */
  | { kind: 'error'; code: number; message: string; data: unknown; answersRequest: boolean };

/** Why the attempt stopped, with what the server said; thrown inside the attempt only. */
class StepFailure extends Error {}

/**
 * Stateless generation (2026-07-28+): no handshake and no session. `server/discover` names
 * the versions the server speaks; every request carries the chosen version in `_meta` and in
 * the `MCP-Protocol-Version` header (and its method in `Mcp-Method`); `tools/list` is read
 * page by page and its `ttlMs` kept.
 */
export async function probeStateless(ctx: ProbeContext): Promise<AttemptResult> {
  ctx.recorder.beginAttempt();
  let nextId = 1;
  const state: StatelessState = { identified: false, answeredInJsonRpc: false, budget: new ResponseBudget(ctx.maxResponseBytes) };
  try {
    const version = STATELESS_VERSIONS[0] as string;
    const discover = await call(ctx, 'discover', 'server/discover', {}, version, nextId++, state);
    const supported = stringArray(discover['supportedVersions']);
    state.identified = supported.length > 0;
    const chosen = STATELESS_VERSIONS.find((v) => supported.includes(v));
    if (chosen === undefined) {
      failStep(ctx, 'discover', `no common protocol version: the server supports ${supported.join(', ') || 'none'}`);
    }
    state.protocolVersion = chosen;
    const tools: ProbedTool[] = [];
    const seenCursors = new Set<string>();
    let cursor: string | undefined;
    for (let page = 0; ; page++) {
      if (page >= MAX_TOOL_PAGES) failStep(ctx, 'tools/list', `tools/list returned more than ${MAX_TOOL_PAGES} pages`);
      const params = cursor === undefined ? {} : { cursor };
      const result = await call(ctx, 'tools/list', 'tools/list', params, chosen as string, nextId++, state);
      if (!Array.isArray(result['tools'])) failStep(ctx, 'tools/list', 'tools/list result has no tools array');
      for (const tool of result['tools'] as unknown[]) {
        if (!isTool(tool)) failStep(ctx, 'tools/list', 'tools/list returned a tool without a name');
        tools.push(tool);
      }
      if (tools.length > MAX_TOOLS) failStep(ctx, 'tools/list', `tools/list returned more than ${MAX_TOOLS} tools`);
      if (typeof result['ttlMs'] === 'number') state.ttlMs = result['ttlMs'];
      const next = result['nextCursor'];
      if (next === undefined || next === null) break;
      if (typeof next !== 'string') failStep(ctx, 'tools/list', 'tools/list nextCursor is not a string');
      if (seenCursors.has(next)) failStep(ctx, 'tools/list', `tools/list repeated cursor "${boundMessage(next, 100)}"`);
      seenCursors.add(next);
      cursor = next;
    }
    return { ...settled(ctx, state), ok: true, tools };
  } catch (cause) {
    const step = ctx.recorder.current();
    if (ctx.deadline.timedOut && step && step.endedAt === undefined) ctx.recorder.end(step, { error: 'timed out' });
    const failingStep = ctx.recorder.current();
    return {
      ...settled(ctx, state),
      ok: false,
      cause,
      failingStep,
      authGate: isAuthGate(ctx.recorder.attemptSteps(), failingStep, ctx.headers),
      answeredInJsonRpc: state.answeredInJsonRpc,
    };
  }
}

interface StatelessState {
  /** The server answered as a stateless server does (a discover result, or -32022 naming stateless versions). */
  identified: boolean;
  /** The request that failed got a JSON-RPC error carrying its id (e.g. discover refused by the server itself). */
  answeredInJsonRpc: boolean;
  protocolVersion?: string;
  ttlMs?: number;
  /** Every reply of the attempt together. */
  budget: ResponseBudget;
}

function settled(ctx: ProbeContext, state: StatelessState) {
  return {
    transport: 'streamable-http' as const,
    generation: state.identified ? ('stateless' as const) : ('unknown' as const),
    identified: state.identified,
    protocolVersion: state.protocolVersion,
    ...(state.ttlMs === undefined ? {} : { toolsTtlMs: state.ttlMs }),
    answered: ctx.recorder.attemptAnswered(),
    settledAt: performance.now(),
  };
}

async function call(
  ctx: ProbeContext,
  step: McpProbeStepName,
  method: string,
  params: Record<string, unknown>,
  version: string,
  id: number,
  state: StatelessState,
): Promise<Record<string, unknown>> {
  const record = ctx.recorder.begin(step);
  const body = {
    jsonrpc: '2.0',
    id,
    method,
    params: {
      ...params,
      _meta: { [META.protocolVersion]: version, [META.clientInfo]: CLIENT_INFO, [META.clientCapabilities]: {} },
    },
  };
  let text: string;
  try {
    const response = await undiciFetch(ctx.url, {
      method: 'POST',
      headers: {
        ...ctx.headers,
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        'mcp-protocol-version': version,
        'mcp-method': method,
      },
      body: JSON.stringify(body),
      signal: ctx.deadline.signal,
      dispatcher: ctx.dispatcher,
      redirect: 'manual',
    });
    record.http_status = response.status;
    record.content_type = response.headers.get('content-type') ?? undefined;
    if (response.status === 401) record.bearer_challenge = isBearerChallenge(response.headers.get('www-authenticate'));
    if (response.status >= 300 && response.status <= 399 && response.status !== 304) {
      await response.body?.cancel().catch(() => undefined);
      throw new RedirectNotFollowedError(redirectMessage(response.status, response.headers.get('location'), ctx.url));
    }
    text = await readBounded(response.body, state.budget);
  } catch (err) {
    if (!ctx.deadline.signal.aborted) record.error = boundMessage(networkErrorMessage(err));
    throw err;
  }
  const reply = parseReply(text, record.content_type, id);
  const status = record.http_status;
  if (reply?.kind === 'error') {
    state.answeredInJsonRpc = reply.answersRequest;
    const supported = noteNegotiation(reply, state);
    const names = supported === undefined ? '' : `; the server supports ${supported.join(', ') || 'none'}`;
    fail(ctx, record, `JSON-RPC ${reply.code}: ${reply.message}${names}`, reply.code);
  }
  if (status < 200 || status > 299) fail(ctx, record, boundMessage(text) || `HTTP ${status}`);
  if (!reply) fail(ctx, record, 'the reply is not a JSON-RPC response to the request');
  ctx.recorder.end(record);
  return reply.result;
}

/** -32022 with only stateless versions is a stateless server that speaks none of ours. */
function noteNegotiation(reply: Extract<JsonRpcReply, { kind: 'error' }>, state: StatelessState): string[] | undefined {
  if (reply.code !== UNSUPPORTED_PROTOCOL_VERSION) return undefined;
  const supported = stringArray((reply.data as { supported?: unknown } | null)?.supported);
  if (supported.length > 0 && supported.every(isStatelessVersion)) state.identified = true;
  return supported;
}

function fail(ctx: ProbeContext, record: StepRecord, error: string, jsonrpcCode?: number): never {
  ctx.recorder.end(record, { error: boundMessage(error), ...(jsonrpcCode === undefined ? {} : { jsonrpc_code: jsonrpcCode }) });
  throw new StepFailure(error);
}

/** A failure found in a reply that was otherwise fine, noted on that step. */
function failStep(ctx: ProbeContext, step: McpProbeStepName, error: string): never {
  const record = ctx.recorder.last();
  if (record && record.step === step) record.error = boundMessage(error);
  throw new StepFailure(error);
}

/** Leaving the loop early cancels the body, so the rest of an oversize reply is never read. */
async function readBounded(body: AsyncIterable<Uint8Array> | null, budget: ResponseBudget): Promise<string> {
  if (!body) return '';
  const chunks: Buffer[] = [];
  for await (const chunk of body) {
    const tooLarge = budget.take(chunk.byteLength);
    if (tooLarge) throw tooLarge;
    chunks.push(Buffer.from(chunk));
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** A JSON body, or the SSE event carrying the response with our id. */
function parseReply(text: string, contentType: string | undefined, id: number): JsonRpcReply | undefined {
  const media = (contentType ?? '').split(';')[0]?.trim().toLowerCase();
  const candidates = media === 'text/event-stream' ? sseData(text) : [text];
  for (const candidate of candidates) {
    const reply = toReply(safeJson(candidate), id);
    if (reply) return reply;
  }
  return undefined;
}

function sseData(text: string): string[] {
  const events: string[] = [];
  for (const block of text.split(/\r?\n\r?\n/)) {
    const data = block
      .split(/\r?\n/)
      .filter((line) => line.startsWith('data:'))
      .map((line) => line.slice(5).replace(/^ /, ''));
    if (data.length > 0) events.push(data.join('\n'));
  }
  return events;
}

function toReply(message: unknown, id: number): JsonRpcReply | undefined {
  if (typeof message !== 'object' || message === null) return undefined;
  const m = message as { jsonrpc?: unknown; id?: unknown; result?: unknown; error?: unknown };
  if (m.jsonrpc !== '2.0') return undefined;
  if (m.error !== undefined && typeof m.error === 'object' && m.error !== null && (m.id === id || m.id === null)) {
    const e = m.error as { code?: unknown; message?: unknown; data?: unknown };
    return {
      kind: 'error',
      code: typeof e.code === 'number' ? e.code : 0,
      message: typeof e.message === 'string' ? e.message : errorMessage(e),
      data: e.data,
      answersRequest: m.id === id,
    };
  }
  if (m.id !== id || typeof m.result !== 'object' || m.result === null) return undefined;
  return { kind: 'result', result: m.result as Record<string, unknown> };
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function stringArray(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

function isTool(value: unknown): value is ProbedTool {
  return typeof value === 'object' && value !== null && typeof (value as { name?: unknown }).name === 'string';
}
