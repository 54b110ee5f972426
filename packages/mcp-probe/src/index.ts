export { probeMcpServer } from './probe-mcp-server';
export { canonicalJson, hashTool, hashTools, sortTools, summarizeTools } from './tools-hash';
export { FIRST_STATELESS_VERSION, STATELESS_VERSIONS } from './generation';
export { MAX_ERROR_LENGTH } from './errors';
export { DEFAULT_MAX_RESPONSE_BYTES, MAX_TOOLS } from './response-budget';
export type {
  McpFailureLayer,
  McpGeneration,
  McpProbeAuth,
  McpProbeOptions,
  McpProbeOutcome,
  McpProbeStep,
  McpProbeStepName,
  McpToolSummary,
  McpTransportKind,
} from './types';
