import { performance } from 'node:perf_hooks';
import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import { Agent } from 'undici';
import { classifyFailure } from './classify-failure';
import { ProbeDeadline } from './deadline';
import { generationFromInitialize, protocolVersionOf } from './generation';
import { probeHandshake, type AttemptResult, type ProbeContext } from './handshake-probe';
import { StepRecorder } from './step-recorder';
import { hashTools, sortTools } from './tools-hash';
import type { McpProbeOptions, McpProbeOutcome, McpToolSummary } from './types';

/**
 * Probes one MCP server over HTTP: handshake, then every tools/list page. Resolves with an
 * outcome for every server failure; rejects only when `options.signal` cancels the probe
 * (with its reason) or `timeoutMs` is not a positive number.
 *
 * Generations: only the handshake era is probed today; a server that answers initialize with
 * stateless versions only is reported as `generation: 'stateless'` (see generationFromInitialize).
 * The stateless era (2026-07-28+, `server/discover`, step `discover`) slots in as a second
 * strategy beside probeHandshake, returning the same AttemptResult.
 */
export async function probeMcpServer(url: string, options: McpProbeOptions): Promise<McpProbeOutcome> {
  if (!(options.timeoutMs > 0 && Number.isFinite(options.timeoutMs))) {
    throw new RangeError(`timeoutMs must be a positive number, got ${options.timeoutMs}`);
  }
  const startedAt = performance.now();
  const target = parseHttpUrl(url);
  if (!target) return invalidUrlOutcome();
  const deadline = new ProbeDeadline(options.timeoutMs, options.signal);
  const dispatcher = new Agent(options.lookup ? { connect: { lookup: options.lookup } } : {});
  try {
    const ctx: ProbeContext = {
      url: target,
      headers: options.headers ?? {},
      deadline,
      recorder: new StepRecorder(),
      dispatcher,
    };
    const attempt = await probeHandshake(ctx);
    if (deadline.cancelledByCaller) throw deadline.signal.reason;
    return toOutcome(attempt, ctx, startedAt);
  } finally {
    deadline.dispose();
    await dispatcher.destroy().catch(() => undefined);
  }
}

function toOutcome(attempt: AttemptResult, ctx: ProbeContext, startedAt: number): McpProbeOutcome {
  const generation = generationFromInitialize(attempt.initializeResponse);
  const base = {
    latency_ms: Math.round(attempt.settledAt - startedAt),
    protocol_version: protocolVersionOf(attempt.initializeResponse),
    generation,
    transport: attempt.transport,
    steps: ctx.recorder.snapshot(),
  };
  if (attempt.ok) {
    const tools = sortTools((attempt.tools ?? []).map(summarizeTool));
    const http_status = ctx.recorder.last()?.http_status;
    return { ok: true, ...base, http_status, tools, tools_hash: hashTools(tools) };
  }
  const failure = classifyFailure({
    step: attempt.failingStep,
    transport: attempt.transport,
    timedOut: ctx.deadline.timedOut,
    timeoutMs: ctx.deadline.timeoutMs,
    answered: attempt.answered,
    cause: attempt.cause,
  });
  const error =
    generation === 'stateless' && failure.layer === 'initialize'
      ? 'server speaks only the stateless MCP generation (2026-07-28+), which this prober does not probe yet'
      : failure.error;
  return { ok: false, failure_layer: failure.layer, error, http_status: failure.http_status, ...base };
}

function summarizeTool(tool: Tool): McpToolSummary {
  return {
    name: tool.name,
    ...(tool.description === undefined ? {} : { description: tool.description }),
    inputSchema: tool.inputSchema,
  };
}

function parseHttpUrl(url: string): URL | undefined {
  try {
    const parsed = new URL(url);
    return parsed.protocol === 'http:' || parsed.protocol === 'https:' ? parsed : undefined;
  } catch {
    return undefined;
  }
}

/** The URL is not echoed: it may carry credentials. */
function invalidUrlOutcome(): McpProbeOutcome {
  return {
    ok: false,
    failure_layer: 'transport',
    error: 'not a valid http(s) URL',
    latency_ms: 0,
    generation: 'unknown',
    transport: 'streamable-http',
    steps: [],
  };
}
