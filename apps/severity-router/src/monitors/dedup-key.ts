import { createHash } from 'node:crypto';

/**
 * Deterministic per (tenant, monitor, incident number): a replay, a retry or a rebuild
 * from the event store yields the same key, so receivers can collapse pages on it.
 */
export function dedupKey(tenantId: string, monitorId: string, incidentSeq: number): string {
  const digest = createHash('sha256').update(`${tenantId}\u0000${monitorId}\u0000${incidentSeq}`).digest('hex');
  return `tcs_${digest.slice(0, 32)}`;
}

/** The same shape for signals that are not incidents (a drift, an SLO warning): stable per cause. */
export function signalDedupKey(tenantId: string, monitorId: string, cause: string): string {
  const digest = createHash('sha256').update(`${tenantId}\u0000${monitorId}\u0000${cause}`).digest('hex');
  return `tcs_${digest.slice(0, 32)}`;
}
