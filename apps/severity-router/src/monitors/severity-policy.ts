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
