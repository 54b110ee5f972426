import type { FailureLayer, Severity } from '@tocsin/contracts';

export type SeverityPolicy = Partial<Record<FailureLayer, Severity>>;

export const DEFAULT_SEVERITY: Readonly<Record<FailureLayer, Severity>> = {
  transport: 'P1',
  http: 'P1',
  initialize: 'P2',
  tools_list: 'P2',
};

/** Monitor overrides win over tenant overrides, which win over the defaults. */
export function severityFor(layer: FailureLayer, ...overrides: readonly (SeverityPolicy | undefined)[]): Severity {
  for (const policy of overrides) {
    const chosen = policy?.[layer];
    if (chosen) return chosen;
  }
  return DEFAULT_SEVERITY[layer];
}

/** Shallowest first: a transport failure hides every layer beneath it. */
const LAYER_DEPTH: Readonly<Record<FailureLayer, number>> = { transport: 0, http: 1, initialize: 2, tools_list: 3 };
const SEVERITY_RANK: Readonly<Record<Severity, number>> = { P1: 1, P2: 2, P3: 3 };

export function isShallower(layer: FailureLayer, than: FailureLayer): boolean {
  return LAYER_DEPTH[layer] < LAYER_DEPTH[than];
}

export function isMoreSevere(severity: Severity, than: Severity): boolean {
  return SEVERITY_RANK[severity] < SEVERITY_RANK[than];
}
