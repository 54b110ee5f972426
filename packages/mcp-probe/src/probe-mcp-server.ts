import { performance } from 'node:perf_hooks';
import { Agent } from 'undici';
import { classifyFailure } from './classify-failure';
import { ProbeDeadline } from './deadline';
import { generationFromInitialize, protocolVersionOf } from './generation';
import { probeHandshake, type AttemptResult, type ProbeContext } from './handshake-probe';
import { DEFAULT_MAX_RESPONSE_BYTES, isFinalFailure } from './response-budget';
import { StepRecorder } from './step-recorder';
import { probeStateless } from './stateless-probe';
import { hashTools, summarizeTools } from './tools-hash';
import type { McpGeneration, McpProbeOptions, McpProbeOutcome } from './types';

/**
 * Probes one MCP server over HTTP, in whichever generation it speaks. Resolves with an
 * outcome for every server failure; rejects only when `options.signal` cancels the probe
 * (with its reason) or `timeoutMs` is not a positive number.
 *
 * Generations: the one remembered for the server (`options.generation`) is tried first; the
 * handshake era otherwise. When the first attempt fails in a way that says "not my
 * generation" (a 400/404/405 or a JSON-RPC answer that does not identify the generation),
 * the other generation is tried, and its outcome is reported if it says more (see
 * outweighs).
 *
 * An attempt whose first request meets an OAuth gate (401 + a Bearer challenge, no
 * credentials sent) is an `ok` outcome with `auth: 'protected'`, and ends the probe.
 */
export async function probeMcpServer(url: string, options: McpProbeOptions): Promise<McpProbeOutcome> {
  if (!(options.timeoutMs > 0 && Number.isFinite(options.timeoutMs))) {
    throw new RangeError(`timeoutMs must be a positive number, got ${options.timeoutMs}`);
  }
  const startedAt = performance.now();
  const target = parseHttpUrl(url);
  if (!target) return invalidUrlOutcome();
  const deadline = new ProbeDeadline(options.timeoutMs, options.signal);
  const dispatcher = new Agent(options.connect ? { connect: options.connect } : {});
  try {
    const ctx: ProbeContext = {
      url: target,
      headers: options.headers ?? {},
      deadline,
      recorder: new StepRecorder(),
      dispatcher,
      maxResponseBytes: options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES,
    };
    const order = options.generation === 'stateless' ? [probeStateless, probeHandshake] : [probeHandshake, probeStateless];
    const [first, second] = order as [Strategy, Strategy];
    let attempt = normalize(await first(ctx));
    if (!attempt.ok && !attempt.authGate && mayBeOtherGeneration(attempt, ctx)) {
      const other = normalize(await second(ctx));
      if (outweighs(other, attempt)) attempt = other;
    }
    if (deadline.cancelledByCaller) throw deadline.signal.reason;
    return toOutcome(attempt, ctx, startedAt);
  } finally {
    deadline.dispose();
    await dispatcher.destroy().catch(() => undefined);
  }
}

type Strategy = (ctx: ProbeContext) => Promise<AttemptResult>;

/** Statuses with which servers of one generation turn away requests of the other. */
const OTHER_GENERATION_STATUSES: ReadonlySet<number> = new Set([400, 404, 405, 406, 415]);

/** Generation and version read the same way for both strategies. */
type NormalizedAttempt = AttemptResult & { generation: McpGeneration; identified: boolean };

function normalize(attempt: AttemptResult): NormalizedAttempt {
  if (attempt.generation !== undefined) return { ...attempt, generation: attempt.generation, identified: attempt.identified ?? false };
  const generation = generationFromInitialize(attempt.initializeResponse);
  const protocolVersion = protocolVersionOf(attempt.initializeResponse);
  // An initialize result naming a version we speak is a handshake-era server, whatever failed later.
  const identified = generation === 'handshake' && protocolVersion !== undefined;
  return { ...attempt, generation, protocolVersion, identified };
}

function mayBeOtherGeneration(attempt: NormalizedAttempt, ctx: ProbeContext): boolean {
  if (attempt.identified || ctx.deadline.signal.aborted || isFinalFailure(attempt.cause)) return false;
  const status = attempt.failingStep?.http_status;
  if (status === undefined) return false; // nothing answered: a transport failure either way
  return (status >= 200 && status <= 299) || OTHER_GENERATION_STATUSES.has(status);
}

/**
 * Whether the other generation's attempt describes the server better than the first: it
 * worked, the server identified itself or met it with an OAuth gate, or the server answered
 * its request in JSON-RPC where the first attempt got no such answer. The last is what keeps
 * a stateless server whose `server/discover` fails from being reported by the HTTP 400 its
 * SDK gives the handshake-era initialize tried before it: discovery failing is `initialize`.
 */
function outweighs(other: NormalizedAttempt, first: NormalizedAttempt): boolean {
  if (other.ok || other.identified || other.authGate) return true;
  return other.answeredInJsonRpc === true && first.answeredInJsonRpc !== true;
}

function toOutcome(attempt: NormalizedAttempt, ctx: ProbeContext, startedAt: number): McpProbeOutcome {
  const base = {
    latency_ms: Math.round(attempt.settledAt - startedAt),
    ...(attempt.protocolVersion === undefined ? {} : { protocol_version: attempt.protocolVersion }),
    generation: attempt.generation,
    transport: attempt.transport,
    steps: ctx.recorder.snapshot(),
  };
  if (attempt.ok) {
    const tools = summarizeTools(attempt.tools ?? []);
    const http_status = ctx.recorder.last()?.http_status;
    const ttl = attempt.toolsTtlMs === undefined ? {} : { tools_ttl_ms: attempt.toolsTtlMs };
    return { ok: true, ...base, http_status, tools, tools_hash: hashTools(tools), ...ttl };
  }
  // Up, by the server's own answer; with no tools read there is nothing to hash or to drift.
  if (attempt.authGate) return { ok: true, auth: 'protected', ...base, http_status: attempt.failingStep?.http_status };
  const failure = classifyFailure({
    step: attempt.failingStep,
    transport: attempt.transport,
    timedOut: ctx.deadline.timedOut,
    timeoutMs: ctx.deadline.timeoutMs,
    answered: attempt.answered,
    cause: attempt.cause,
  });
  return { ok: false, failure_layer: failure.layer, error: failure.error, http_status: failure.http_status, ...base };
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
