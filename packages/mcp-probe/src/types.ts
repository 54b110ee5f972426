import type { buildConnector } from 'undici';

/** Mirrors `FailureLayer` in @tocsin/contracts (DESIGN §2). */
export type McpFailureLayer = 'transport' | 'http' | 'initialize' | 'tools_list';

/** `handshake`: 2024-11-05 … 2025-11-25; `stateless`: 2026-07-28+ (`server/discover`). */
export type McpGeneration = 'handshake' | 'stateless' | 'unknown';

export type McpTransportKind = 'streamable-http' | 'sse';

/** Mirrors `ProbeAuth` in @tocsin/contracts: `protected` is an OAuth-protected server that is up. */
export type McpProbeAuth = 'protected';

export type McpProbeStepName = 'initialize' | 'initialized' | 'tools/list' | 'discover' | 'sse-connect';

export interface McpProbeStep {
  step: McpProbeStepName;
  http_status?: number;
  jsonrpc_code?: number;
  content_type?: string;
  latency_ms: number;
  error?: string;
}

/** One tool in a result: its name and the sha256 of its canonical contract (see hashTool). */
export interface McpToolSummary {
  name: string;
  hash: string;
  /** The call signature (toolParams of its inputSchema), when the schema is readable. */
  params?: Record<string, string>;
}

export interface McpProbeOutcome {
  ok: boolean;
  /**
   * `protected`: the first request was answered 401 with a Bearer challenge (MCP
   * authorization spec) while the probe sent no credentials, so the server is up (`ok`) but
   * its tools were not read: no `tools`, no `tools_hash`, and `http_status` is 401.
   */
  auth?: McpProbeAuth;
  failure_layer?: McpFailureLayer;
  /** Short, single-line, bounded (see MAX_ERROR_LENGTH). */
  error?: string;
  latency_ms: number;
  /** Of the failing step, or of the last step when ok. */
  http_status?: number;
  protocol_version?: string;
  generation: McpGeneration;
  transport: McpTransportKind;
  /** sha256 hex over the sorted `tools` (see hashTools). */
  tools_hash?: string;
  tools?: McpToolSummary[];
  /** Stateless era: how long the server said its tools/list may be cached. */
  tools_ttl_ms?: number;
  steps: McpProbeStep[];
}

export interface McpProbeOptions {
  /** Budget for the whole probe, fallback included. */
  timeoutMs: number;
  /** Sent on every request (e.g. Authorization). */
  headers?: Record<string, string>;
  /** Aborting it makes probeMcpServer reject with the signal's reason: a cancelled probe has no outcome. */
  signal?: AbortSignal;
  /** The generation this server was last seen speaking; tried first. */
  generation?: McpGeneration;
  /**
   * The undici `connect` for every connection (e.g. an SSRF guard's, which checks IP
   * literals, resolved names and the connected address), both generations and both SDK
   * transports alike.
   */
  connect?: buildConnector.connector;
  /** What one attempt may read of the server's replies, tools/list pages included; 4 MiB unless set. */
  maxResponseBytes?: number;
}
