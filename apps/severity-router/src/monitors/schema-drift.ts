import { createHash } from 'node:crypto';

/** JSON with object keys sorted, so a tool's hash does not depend on key order. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/**
 * Per-tool hashes by name: the prober's `hash` when it sent one, otherwise the sha256 of
 * the tool's canonical JSON (older probers sent whole tool definitions).
 */
export function toolHashes(tools: ReadonlyArray<{ readonly name: string } & Record<string, unknown>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const tool of tools) {
    out[tool.name] = typeof tool.hash === 'string' ? tool.hash : createHash('sha256').update(canonicalJson(tool)).digest('hex');
  }
  return out;
}

export interface ToolDiff {
  readonly added: string[];
  readonly removed: string[];
  readonly changed: string[];
}

export function diffTools(previous: Readonly<Record<string, string>>, current: Readonly<Record<string, string>>): ToolDiff {
  const names = (r: Readonly<Record<string, string>>) => Object.keys(r).sort();
  return {
    added: names(current).filter((n) => !(n in previous)),
    removed: names(previous).filter((n) => !(n in current)),
    changed: names(current).filter((n) => n in previous && previous[n] !== current[n]),
  };
}
