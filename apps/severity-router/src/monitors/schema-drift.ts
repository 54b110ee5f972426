import { createHash } from 'node:crypto';
import { toolParams, type DriftImpact } from '@tocsin/contracts';

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
 * What the monitor keeps of each tool, by name: its hash, then, when its call signature is
 * known, a space and the signature as JSON (`<hash> {"q":"string!"}`); snapshots written
 * before signatures hold the hash alone. The hash is the prober's when it sent one,
 * otherwise the sha256 of the tool's canonical JSON (older probers sent whole tool
 * definitions, whose signature is read from their inputSchema here).
 */
export function toolContracts(
  tools: ReadonlyArray<{ readonly name: string; readonly params?: Record<string, string> } & Record<string, unknown>>,
): Record<string, string> {
  // No prototype: a tool may be named `__proto__` or `constructor` like any other.
  const out: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const tool of tools) {
    const hash = typeof tool.hash === 'string' ? tool.hash : createHash('sha256').update(canonicalJson(tool)).digest('hex');
    const params = tool.params ?? (tool.hash === undefined ? toolParams(tool.inputSchema) : undefined);
    out[tool.name] = params ? `${hash} ${JSON.stringify(params)}` : hash;
  }
  return out;
}

/** A kept contract's hash and signature (undefined when it was not known). */
function readContract(contract: string): { hash: string; params: Record<string, string> | undefined } {
  const space = contract.indexOf(' ');
  if (space < 0) return { hash: contract, params: undefined };
  return { hash: contract.slice(0, space), params: JSON.parse(contract.slice(space + 1)) as Record<string, string> };
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
  readonly impact: DriftImpact;
  /** At most MAX_DRIFT_NAMES reasons, in tool order. */
  readonly breaking: string[];
}

/**
 * Why a change of one tool breaks a caller that worked before: a parameter removed or
 * retyped, or one now required (new or not). A signature unknown on either side proves
 * nothing, so it gives no reason.
 */
function breakingChanges(tool: string, before: Record<string, string> | undefined, after: Record<string, string> | undefined): string[] {
  if (!before || !after) return [];
  const reasons: string[] = [];
  const bare = (t: string) => (t.endsWith('!') ? t.slice(0, -1) : t);
  for (const name of Object.keys(before)) {
    const was = before[name]!;
    if (!Object.hasOwn(after, name)) reasons.push(`${tool}.${name}: removed`);
    else if (bare(was) !== bare(after[name]!)) reasons.push(`${tool}.${name}: ${bare(was)} → ${bare(after[name]!)}`);
    else if (!was.endsWith('!') && after[name]!.endsWith('!')) reasons.push(`${tool}.${name}: now required`);
  }
  for (const name of Object.keys(after)) {
    if (!Object.hasOwn(before, name) && after[name]!.endsWith('!')) reasons.push(`${tool}.${name}: new required parameter`);
  }
  return reasons;
}

/**
 * The tools added, removed and changed, by name, and whether the change is breaking: a
 * tool removed, or a changed tool whose signature lost, retyped or newly requires a
 * parameter. Anything else (a tool added, an optional parameter added, a description
 * reworded) is additive. A server that swaps a thousand tools must not make an alert too
 * large to send, so each list holds at most MAX_DRIFT_NAMES names (the first in order)
 * and the diff then says `truncated` with the full counts.
 */
export function diffTools(previous: Readonly<Record<string, string>>, current: Readonly<Record<string, string>>): ToolDiff {
  const names = (r: Readonly<Record<string, string>>) => Object.keys(r).sort();
  const added = names(current).filter((n) => !Object.hasOwn(previous, n));
  const removed = names(previous).filter((n) => !Object.hasOwn(current, n));
  const changed: string[] = [];
  const breaking = removed.map((n) => `${n}: removed`);
  for (const name of names(current)) {
    if (!Object.hasOwn(previous, name)) continue;
    const before = readContract(previous[name]!);
    const after = readContract(current[name]!);
    if (before.hash === after.hash) continue;
    changed.push(name);
    breaking.push(...breakingChanges(name, before.params, after.params));
  }
  const judged = { impact: breaking.length > 0 ? ('breaking' as const) : ('additive' as const), breaking: breaking.slice(0, MAX_DRIFT_NAMES) };
  if (added.length <= MAX_DRIFT_NAMES && removed.length <= MAX_DRIFT_NAMES && changed.length <= MAX_DRIFT_NAMES) {
    return { added, removed, changed, ...judged };
  }
  return {
    added: added.slice(0, MAX_DRIFT_NAMES),
    removed: removed.slice(0, MAX_DRIFT_NAMES),
    changed: changed.slice(0, MAX_DRIFT_NAMES),
    truncated: true,
    added_count: added.length,
    removed_count: removed.length,
    changed_count: changed.length,
    ...judged,
  };
}
