import { createHash } from 'node:crypto';
import { storableText, toolParams } from '@tocsin/contracts';
import type { McpToolSummary } from './types';

/** Longer names are cut in results (the hash still covers the whole contract). */
export const MAX_TOOL_NAME_LENGTH = 512;

/** JSON with object keys sorted at every depth; undefined members are dropped as JSON.stringify does. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(canonicalize(value));
}

/**
 * Sorted keys at every depth; a JSON Schema `required` list is a set, so it is sorted too
 * (declaring the same properties in another order must not look like a change).
 */
function canonicalize(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonicalize);
  if (value === null || typeof value !== 'object') return value;
  const sorted: Record<string, unknown> = {};
  for (const key of Object.keys(value).sort()) {
    const member = (value as Record<string, unknown>)[key];
    sorted[key] = key === 'required' && isStringArray(member) ? [...member].sort() : canonicalize(member);
  }
  return sorted;
}

/** The parts of a tool that define its contract; `_meta` and other extras are not drift. */
const CONTRACT_FIELDS = ['name', 'title', 'description', 'inputSchema', 'outputSchema', 'annotations'] as const;

/** sha256 hex of the canonical JSON of one tool's contract fields. */
export function hashTool(tool: { name: string } & Record<string, unknown>): string {
  const contract: Record<string, unknown> = {};
  for (const field of CONTRACT_FIELDS) if (tool[field] !== undefined) contract[field] = tool[field];
  return sha256(canonicalJson(contract));
}

/**
 * `{name, hash, params}` per tool, sorted by name (then hash, so duplicate names still
 * order stably). Names are the server's text and go to storage: made storable and bounded.
 * Parameter names are kept only when they are storable as they are (a signature with a
 * name that is not is left out: the change is then reported, not judged).
 */
export function summarizeTools(tools: ReadonlyArray<{ name: string } & Record<string, unknown>>): McpToolSummary[] {
  return sortTools(
    tools.map((tool) => {
      const params = toolParams(tool.inputSchema);
      const storable = params && Object.keys(params).every((n) => storableText(n, MAX_TOOL_NAME_LENGTH) === n);
      return { name: storableText(tool.name, MAX_TOOL_NAME_LENGTH), hash: hashTool(tool), ...(storable ? { params } : {}) };
    }),
  );
}

export function sortTools(tools: readonly McpToolSummary[]): McpToolSummary[] {
  return [...tools].sort((a, b) => compare(a.name, b.name) || compare(a.hash, b.hash));
}

/**
 * sha256 hex over the sorted `{name, hash}` list: independent of tool order and key order,
 * and changed by any tool added, removed or changed. `params` is left out (it is read from
 * the schema the tool's hash already covers), so the hash is the one probes always sent.
 */
export function hashTools(tools: readonly McpToolSummary[]): string {
  return sha256(canonicalJson(sortTools(tools).map(({ name, hash }) => ({ name, hash }))));
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((v) => typeof v === 'string');
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
