import type { McpFailureLayer, McpProbeStepName } from './types';

const STEP_BY_METHOD: Readonly<Record<string, McpProbeStepName>> = {
  initialize: 'initialize',
  'notifications/initialized': 'initialized',
  'tools/list': 'tools/list',
  'server/discover': 'discover',
};

/** The probe step a JSON-RPC method belongs to; other methods (cancellations, pings) are not steps. */
export function stepForMethod(method: string): McpProbeStepName | undefined {
  return Object.hasOwn(STEP_BY_METHOD, method) ? STEP_BY_METHOD[method] : undefined;
}

/**
 * The layer a step belongs to once HTTP itself worked. A legacy SSE stream that opened but
 * never named its message endpoint failed session setup, which is the initialize layer.
 */
export function layerOfStep(step: McpProbeStepName): McpFailureLayer {
  return step === 'tools/list' ? 'tools_list' : 'initialize';
}
