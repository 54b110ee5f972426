import { performance } from 'node:perf_hooks';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { FetchLike, Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import type { Dispatcher } from 'undici';
import { isAuthGate } from './auth-challenge';
import { raceAbort, type ProbeDeadline } from './deadline';
import { boundMessage } from './errors';
import { ObservedTransport, type InitializeResponse } from './observed-transport';
import { createRecordingFetch } from './recording-fetch';
import { MAX_TOOLS, ResponseBudget } from './response-budget';
import type { StepRecord, StepRecorder } from './step-recorder';
import type { McpGeneration, McpTransportKind } from './types';

export interface ProbeContext {
  url: URL;
  headers: Record<string, string>;
  deadline: ProbeDeadline;
  recorder: StepRecorder;
  dispatcher: Dispatcher;
  /** What one attempt may read of the server's replies, all of them together. */
  maxResponseBytes: number;
}

/** A tool as listed by either generation; only `name` is required to be there. */
export interface ProbedTool {
  name: string;
  [key: string]: unknown;
}

export interface AttemptResult {
  transport: McpTransportKind;
  ok: boolean;
  tools?: ProbedTool[];
  /** Handshake era only: the raw initialize reply, from which generation and version are read. */
  initializeResponse?: InitializeResponse;
  /** Stateless era: what the attempt learned itself. */
  generation?: McpGeneration;
  protocolVersion?: string | undefined;
  /** Whether the server answered as a server of this attempt's generation does. */
  identified?: boolean;
  /** Stateless era: the tools/list result's cache lifetime. */
  toolsTtlMs?: number;
  /** What the SDK threw, when not ok. */
  cause?: unknown;
  /** The step in progress when the attempt stopped. */
  failingStep?: StepRecord;
  /** The attempt's first request met an OAuth gate (see isAuthGate): the server is up, its tools out of reach. */
  authGate?: boolean;
  /**
   * The failing request got a JSON-RPC error carrying its id: the server speaks JSON-RPC at
   * this URL in this attempt's generation, whatever it refused.
   */
  answeredInJsonRpc?: boolean;
  /** Whether any HTTP response arrived during this attempt. */
  answered: boolean;
  /** When the outcome was known, before cleanup. */
  settledAt: number;
}

const CLIENT_INFO = { name: 'tocsin-probe', version: '0.1.0' };

/** Spec backwards compatibility: a legacy-only server rejects the streamable POST with a 4xx. */
const LEGACY_FALLBACK_STATUSES: ReadonlySet<number> = new Set([400, 404, 405]);

/** Bounds a server that hands out cursors forever. */
const MAX_TOOL_PAGES = 100;

/**
 * Handshake era: Streamable HTTP first; the legacy HTTP+SSE transport when the server rejects
 * the initialize POST the way a legacy-only server does (the SDK's documented fallback).
 */
export async function probeHandshake(ctx: ProbeContext): Promise<AttemptResult> {
  const streamable = await runAttempt('streamable-http', ctx);
  if (streamable.ok || !shouldTryLegacySse(streamable, ctx)) return streamable;
  const legacy = await runAttempt('sse', ctx);
  // A server that does not speak legacy SSE either is better described by its streamable
  // answer; one whose stream answers with an OAuth challenge (token or none) does speak it.
  const failed = legacy.failingStep;
  return legacy.ok || failed?.step !== 'sse-connect' || failed.bearer_challenge === true ? legacy : streamable;
}

function shouldTryLegacySse(attempt: AttemptResult, ctx: ProbeContext): boolean {
  const step = attempt.failingStep;
  return (
    !ctx.deadline.signal.aborted &&
    step?.step === 'initialize' &&
    step.http_status !== undefined &&
    LEGACY_FALLBACK_STATUSES.has(step.http_status)
  );
}

async function runAttempt(kind: McpTransportKind, ctx: ProbeContext): Promise<AttemptResult> {
  ctx.recorder.beginAttempt();
  // Stops the attempt when the reply budget is spent: the SDK would otherwise wait for a
  // reply whose stream was cut until the deadline.
  const stop = new AbortController();
  const signal = AbortSignal.any([ctx.deadline.signal, stop.signal]);
  const fetch = createRecordingFetch({
    recorder: ctx.recorder,
    transport: kind,
    dispatcher: ctx.dispatcher,
    signal: ctx.deadline.signal,
    budget: new ResponseBudget(ctx.maxResponseBytes),
    onTooLarge: (err) => stop.abort(err),
  });
  const { transport, beforeClose } = createSdkTransport(kind, ctx, fetch);
  const observed = new ObservedTransport(transport, ctx.recorder, {
    startStep: kind === 'sse' ? 'sse-connect' : undefined,
    beforeClose,
  });
  const client = new Client(CLIENT_INFO, { capabilities: {} });
  const requestOptions = { signal, timeout: ctx.deadline.sdkRequestTimeoutMs };
  try {
    await raceAbort(client.connect(observed, requestOptions), signal);
    const tools = await listAllTools(client, requestOptions);
    return { ...settled(kind, ctx, observed), ok: true, tools };
  } catch (cause) {
    markTimedOutStep(ctx);
    const failingStep = ctx.recorder.current();
    return {
      ...settled(kind, ctx, observed),
      ok: false,
      cause,
      failingStep,
      authGate: isAuthGate(ctx.recorder.attemptSteps(), failingStep, ctx.headers),
      // ObservedTransport notes a JSON-RPC code only for a reply matched to a request it sent.
      answeredInJsonRpc: failingStep?.jsonrpc_code !== undefined,
    };
  } finally {
    await client.close().catch(() => undefined);
    await observed.close().catch(() => undefined);
  }
}

function settled(kind: McpTransportKind, ctx: ProbeContext, observed: ObservedTransport) {
  return {
    transport: kind,
    initializeResponse: observed.initializeResponse,
    answered: ctx.recorder.attemptAnswered(),
    settledAt: performance.now(),
  };
}

function markTimedOutStep(ctx: ProbeContext): void {
  const step = ctx.recorder.current();
  if (ctx.deadline.timedOut && step && step.endedAt === undefined) {
    ctx.recorder.end(step, { error: 'timed out' });
  }
}

function createSdkTransport(
  kind: McpTransportKind,
  ctx: ProbeContext,
  fetch: FetchLike,
): { transport: Transport; beforeClose?: () => Promise<void> } {
  const requestInit = { headers: ctx.headers };
  if (kind === 'sse') return { transport: new SSEClientTransport(ctx.url, { fetch, requestInit }) };
  const transport = new StreamableHTTPClientTransport(ctx.url, {
    fetch,
    requestInit,
    // A probe never resumes a stream; a retry timer would only outlive it.
    reconnectionOptions: {
      maxRetries: 0,
      initialReconnectionDelay: 0,
      maxReconnectionDelay: 0,
      reconnectionDelayGrowFactor: 1,
    },
  });
  return { transport, beforeClose: () => terminateSession(transport, ctx.deadline) };
}

/** Frees the server's session (also after a failed initialize); never past the deadline. */
async function terminateSession(transport: StreamableHTTPClientTransport, deadline: ProbeDeadline): Promise<void> {
  if (transport.sessionId === undefined || deadline.signal.aborted) return;
  await raceAbort(transport.terminateSession(), deadline.signal).catch(() => undefined);
}

export class ToolsListPaginationError extends Error {}

async function listAllTools(
  client: Client,
  options: { signal: AbortSignal; timeout: number },
): Promise<Tool[]> {
  const tools: Tool[] = [];
  const seenCursors = new Set<string>();
  let cursor: string | undefined;
  for (let page = 0; page < MAX_TOOL_PAGES; page++) {
    const params = cursor === undefined ? undefined : { cursor };
    const result = await raceAbort(client.listTools(params, options), options.signal);
    tools.push(...result.tools);
    if (tools.length > MAX_TOOLS) throw new ToolsListPaginationError(`tools/list returned more than ${MAX_TOOLS} tools`);
    cursor = result.nextCursor;
    if (cursor === undefined) return tools;
    if (seenCursors.has(cursor)) throw new ToolsListPaginationError(`tools/list repeated cursor "${boundMessage(cursor, 100)}"`);
    seenCursors.add(cursor);
  }
  throw new ToolsListPaginationError(`tools/list returned more than ${MAX_TOOL_PAGES} pages`);
}
