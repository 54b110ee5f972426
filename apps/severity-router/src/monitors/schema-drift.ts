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
  // No prototype: a tool may be named `__proto__` or `constructor` like any other.
  const out: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const tool of tools) {
    out[tool.name] = typeof tool.hash === 'string' ? tool.hash : createHash('sha256').update(canonicalJson(tool)).digest('hex');
  }
  return out;
}

/** Names listed per kind of change in a drift alert; past it the alert carries counts. */
export const MAX_DRIFT_NAMES = 100;

export interface ToolDiff {
  readonly added: string[];
  readonly removed: string[];
  readonly changed: string[];
  readonly truncated?: true;
  readonly added_count?: number;
  readonly removed_count?: number;
  readonly changed_count?: number;
}

/**
 * The tools added, removed and changed, by name. A server that swaps a thousand tools
 * must not make an alert too large to send, so each list holds at most MAX_DRIFT_NAMES
 * names (the first in order) and the diff then says `truncated` with the full counts.
 */
export function diffTools(previous: Readonly<Record<string, string>>, current: Readonly<Record<string, string>>): ToolDiff {
  const names = (r: Readonly<Record<string, string>>) => Object.keys(r).sort();
  const added = names(current).filter((n) => !Object.hasOwn(previous, n));
  const removed = names(previous).filter((n) => !Object.hasOwn(current, n));
  const changed = names(current).filter((n) => Object.hasOwn(previous, n) && previous[n] !== current[n]);
  if (added.length <= MAX_DRIFT_NAMES && removed.length <= MAX_DRIFT_NAMES && changed.length <= MAX_DRIFT_NAMES) {
    return { added, removed, changed };
  }
  return {
    added: added.slice(0, MAX_DRIFT_NAMES),
    removed: removed.slice(0, MAX_DRIFT_NAMES),
    changed: changed.slice(0, MAX_DRIFT_NAMES),
    truncated: true,
    added_count: added.length,
    removed_count: removed.length,
    changed_count: changed.length,
  };
}
