import type { SloBreachLevel, SloBreachWarnedData } from '@tocsin/contracts';

export interface SloObjective {
  /** Availability as a fraction, e.g. 0.999. */
  readonly target: number;
  readonly windowDays: number;
}

export const DEFAULT_SLO: SloObjective = { target: 0.999, windowDays: 30 };

/** The current SLO window: downtime of incidents already resolved in it, and what was said. */
export interface SloState {
  readonly windowStart: string;
  /** Exclusive; absent in snapshots written before it was kept. */
  readonly windowEnd?: string;
  readonly windowDays: number;
  readonly closedDowntimeMs: number;
  readonly warned: 'none' | SloBreachLevel;
}

const DAY_MS = 86_400_000;

/**
 * Windows are fixed and aligned to the Unix epoch (window_days long), so every replica and
 * every replay puts a result in the same window.
 */
export function windowStartFor(at: string, objective: SloObjective): string {
  const length = objective.windowDays * DAY_MS;
  return new Date(Math.floor(Date.parse(at) / length) * length).toISOString();
}

export function rollSloWindow(slo: SloState | null, at: string, objective: SloObjective): SloState {
  // Most results fall in the current window: tell by comparing ISO strings, no Date needed.
  if (slo && slo.windowDays === objective.windowDays && at >= slo.windowStart && (slo.windowEnd === undefined || at < slo.windowEnd)) return slo;
  const windowStart = windowStartFor(at, objective);
  if (slo && slo.windowStart === windowStart && slo.windowDays === objective.windowDays) return slo;
  const windowEnd = new Date(Date.parse(windowStart) + objective.windowDays * DAY_MS).toISOString();
  return { windowStart, windowEnd, windowDays: objective.windowDays, closedDowntimeMs: 0, warned: 'none' };
}

function overlapMs(from: string, to: string, windowStart: string, windowDays: number): number {
  const start = Math.max(Date.parse(from), Date.parse(windowStart));
  const end = Math.min(Date.parse(to), Date.parse(windowStart) + windowDays * DAY_MS);
  return Math.max(0, end - start);
}

export function sloDowntimeOnResolve(slo: SloState | null, startedAt: string, resolvedAt: string): SloState | null {
  if (!slo) return slo;
  return { ...slo, closedDowntimeMs: slo.closedDowntimeMs + overlapMs(startedAt, resolvedAt, slo.windowStart, slo.windowDays) };
}

/** The `SloBreachWarned` event's data, less what the monitor (not the SLO) supplies. */
export type SloWarning = Omit<SloBreachWarnedData, 'dedup_key' | 'server_slug' | 'server_url'>;

const round = (n: number, digits = 6) => Math.round(n * 10 ** digits) / 10 ** digits;

/**
 * `burning` (P3) once per window when the downtime so far, continued at the same rate to the
 * window's end, would spend more than the error budget; `exhausted` (P2) once the budget is
 * spent. Each level is said at most once per window.
 */
export function evaluateSlo(slo: SloState | null, openSince: string | null, at: string, objective: SloObjective): SloWarning | null {
  if (!slo || slo.warned === 'exhausted' || (slo.closedDowntimeMs === 0 && !openSince)) return null;
  const now = Date.parse(at);
  const windowStart = Date.parse(slo.windowStart);
  const windowMs = slo.windowDays * DAY_MS;
  const downtimeMs = slo.closedDowntimeMs + (openSince ? overlapMs(openSince, at, slo.windowStart, slo.windowDays) : 0);
  if (downtimeMs <= 0) return null;
  // A window's first hour is judged as if an hour had passed: a short blip right after a
  // window boundary does not project to a spent budget.
  const elapsedMs = Math.max(now - windowStart, Math.min(windowMs, 3_600_000));
  const budgetMs = (1 - objective.target) * windowMs;
  const exhausted = downtimeMs >= budgetMs;
  const burning = (downtimeMs / elapsedMs) * windowMs > budgetMs;
  const level: SloBreachLevel | null = exhausted ? 'exhausted' : burning && slo.warned === 'none' ? 'burning' : null;
  if (!level) return null;
  return {
    level,
    severity: level === 'exhausted' ? 'P2' : 'P3',
    window_start: slo.windowStart,
    target: objective.target,
    window_days: objective.windowDays,
    availability: round(Math.max(0, 1 - downtimeMs / elapsedMs)),
    budget_remaining: round(budgetMs > 0 ? Math.max(0, 1 - downtimeMs / budgetMs) : 0),
    downtime_seconds: Math.round(downtimeMs / 1000),
    warned_at: at,
  };
}
