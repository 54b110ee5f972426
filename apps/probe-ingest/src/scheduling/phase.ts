import { createHash } from 'node:crypto';

/**
 * Each monitor probes at fixed instants `k × interval + phase`, its phase derived from its
 * id. Monitors of one interval therefore spread evenly across it (10,000 monitors of 60 s
 * fire ~167 a second, not 10,000 at once), the slots survive restarts and moving between
 * replicas, and "once per interval" means "once per slot".
 */
export function phaseMs(monitorId: string, intervalMs: number): number {
  const digest = createHash('sha256').update(monitorId).digest();
  return digest.readUInt32BE(0) % intervalMs;
}

/** The first slot strictly after `nowMs`. */
export function nextSlotAfter(nowMs: number, intervalMs: number, phase: number): number {
  return (Math.floor((nowMs - phase) / intervalMs) + 1) * intervalMs + phase;
}

/** The slot a moment belongs to: the index of the newest slot at or before it. */
export function slotIndex(atMs: number, intervalMs: number, phase: number): number {
  return Math.floor((atMs - phase) / intervalMs);
}
