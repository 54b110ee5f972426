import { SUPPORTED_PROTOCOL_VERSIONS } from '@modelcontextprotocol/sdk/types.js';
import { storableText } from '@tocsin/contracts';
import type { InitializeResponse } from './observed-transport';
import type { McpGeneration } from './types';

/** First protocol revision without the initialize handshake (`server/discover`, per-request `_meta`). */
export const FIRST_STATELESS_VERSION = '2026-07-28';

/** The stateless revisions this prober speaks, newest first. */
export const STATELESS_VERSIONS: readonly string[] = [FIRST_STATELESS_VERSION];

export function isStatelessVersion(version: string): boolean {
  return /^\d{4}-\d{2}-\d{2}$/.test(version) && version >= FIRST_STATELESS_VERSION;
}

/**
 * Reads the generation off the initialize reply: a handshake-era result, or a server that
 * answers only with stateless versions (as a result, or in the error's `data.supported`).
 */
export function generationFromInitialize(reply: InitializeResponse | undefined): McpGeneration {
  if (!reply) return 'unknown';
  const versions = 'result' in reply ? [reply.result['protocolVersion']] : supportedVersionsOf(reply.error.data);
  if (versions.length > 0 && versions.every((v) => typeof v === 'string' && isStatelessVersion(v))) {
    return 'stateless';
  }
  const handshake = versions.some((v) => typeof v === 'string' && SUPPORTED_PROTOCOL_VERSIONS.includes(v));
  return handshake ? 'handshake' : 'unknown';
}

/** The server's own text, reported and stored on the monitor: bounded and storable. */
export function protocolVersionOf(reply: InitializeResponse | undefined): string | undefined {
  const version = reply && 'result' in reply ? reply.result['protocolVersion'] : undefined;
  return typeof version === 'string' ? storableText(version, 64) : undefined;
}

function supportedVersionsOf(data: unknown): unknown[] {
  if (typeof data !== 'object' || data === null) return [];
  const supported = (data as { supported?: unknown }).supported;
  return Array.isArray(supported) ? supported : [];
}
