import { z } from 'zod';

export const FAILURE_LAYERS = ['transport', 'http', 'initialize', 'tools_list'] as const;
export const failureLayerSchema = z.enum(FAILURE_LAYERS);
export type FailureLayer = z.infer<typeof failureLayerSchema>;

export const SERVICE_STATUSES = ['operational', 'degraded', 'down', 'maintenance'] as const;
export const PROBE_SOURCES = ['active', 'push', 'receiver', 'kafka'] as const;
/**
 * `protected`: an OAuth-protected MCP server answered the probe's first request with 401 and
 * a Bearer challenge (MCP authorization spec). It comes with `ok: true` and counts as any
 * healthy result; its tools were not read, so there is no `tools_hash`.
 */
export const PROBE_AUTH_STATES = ['protected'] as const;
export type ProbeAuth = (typeof PROBE_AUTH_STATES)[number];

/** More tools than any server offers; a longer list is refused rather than stored in the monitor's state. */
export const MAX_TOOLS = 1000;
export const MAX_TOOL_NAME_LENGTH = 512;

/**
 * Active probes send `{name, hash, params}`: the sha256 of the tool's canonical contract,
 * and its call signature (toolParams), by which a change is judged breaking or additive.
 * Older producers sent the tool itself, whose signature the router reads from inputSchema.
 */
const toolSchema = z.looseObject({
  name: z.string().min(1).max(MAX_TOOL_NAME_LENGTH),
  hash: z.string().max(200).optional(),
  params: z.record(z.string().max(128), z.string().max(100)).optional(),
  description: z.string().optional(),
  inputSchema: z.unknown().optional(),
});

export const PROBE_RESULT_SCHEMA = 'ProbeResult/1';

/** DESIGN §2 ProbeResult: what every prober, push and receiver becomes on the probe topic. */
export const probeResultSchema = z
  .object({
    event_id: z.uuid(),
    tenant_id: z.string().min(1).max(100),
    monitor_id: z.string().min(1).max(100),
    observed_at: z.iso.datetime({ offset: true }),
    ok: z.boolean(),
    failure_layer: failureLayerSchema.optional(),
    error: z.string().max(2000).optional(),
    latency_ms: z.number().nonnegative().optional(),
    http_status: z.number().int().min(100).max(599).optional(),
    tools_hash: z.string().max(200).optional(),
    tools: z.array(toolSchema).max(MAX_TOOLS).optional(),
    auth: z.enum(PROBE_AUTH_STATES).optional(),
    status: z.enum(SERVICE_STATUSES).optional(),
    source: z.enum(PROBE_SOURCES),
  })
  .refine((r) => r.ok || r.failure_layer !== undefined || r.status !== undefined, {
    message: 'a failed result needs failure_layer (or a receiver status)',
    path: ['failure_layer'],
  });

export type ProbeResult = z.infer<typeof probeResultSchema>;
