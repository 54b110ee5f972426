import { createHash } from 'node:crypto';
import type { McpToolSummary } from './types';

/** JSON with object keys sorted at every depth; undefined members are dropped as JSON.stringify does. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value === null || typeof value !== 'object') return value;
  const sorted: Record<string, unknown> = {};
  for (const key of Object.keys(value).sort()) {
    sorted[key] = sortKeys((value as Record<string, unknown>)[key]);
  }
  return sorted;
}

/** Tools sorted by name (then by content, so duplicate names still order stably). */
export function sortTools(tools: readonly McpToolSummary[]): McpToolSummary[] {
  return [...tools]
    .map((tool) => ({ tool, json: canonicalJson(tool) }))
    .sort((a, b) => compare(a.tool.name, b.tool.name) || compare(a.json, b.json))
    .map(({ tool }) => tool);
}

/** sha256 hex of the canonical JSON of the tools sorted by name: order-insensitive, key-order-insensitive. */
export function hashTools(tools: readonly McpToolSummary[]): string {
  return createHash('sha256').update(canonicalJson(sortTools(tools))).digest('hex');
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
