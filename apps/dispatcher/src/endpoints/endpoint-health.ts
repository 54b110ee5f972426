import type { BreakerState, EndpointStatus } from '@tocsin/database';

/** One recorded attempt, as the health projection sees it. */
export interface AttemptOutcome {
  readonly at: Date;
  readonly succeeded: boolean;
  /** 5xx, 408/429, timeouts and connection errors: the receiver is unwell. A 4xx is an answer, not a sickness. */
  readonly retriable: boolean;
  /** A success slower than the breaker's latency budget: delivered, but it counts against the breaker. */
  readonly slow?: boolean;
}

export interface HealthState {
  readonly delivered: number;
  readonly failed: number;
  readonly lastDeliveryAt: Date | null;
  readonly lastAttemptAt: Date | null;
  readonly recent: string;
  readonly breakerState: BreakerState;
  readonly breakerFailures: number;
  readonly breakerOpenedAt: Date | null;
  readonly breakerRetryAt: Date | null;
  readonly breakerOpens: number;
}

export type HealthTransition =
  | { kind: 'degraded'; failed: number; of: number }
  | { kind: 'recovered' }
  | { kind: 'breaker_opened'; consecutiveFailures: number; retryAt: Date }
  | { kind: 'breaker_closed' };

export interface HealthPolicy {
  readonly breakerThreshold: number;
  readonly breakerCooldownMs: number;
}

export const EMPTY_HEALTH: HealthState = {
  delivered: 0,
  failed: 0,
  lastDeliveryAt: null,
  lastAttemptAt: null,
  recent: '',
  breakerState: 'closed',
  breakerFailures: 0,
  breakerOpenedAt: null,
  breakerRetryAt: null,
  breakerOpens: 0,
};

/** The latest attempts `degraded` is judged on. */
export const RECENT_WINDOW = 10;
/** Fewer attempts than this say nothing about an endpoint's health. */
const MIN_JUDGED = 4;
/** Consecutive successes that clear `degraded`. */
const RECOVERED_AFTER = 3;
const MAX_COOLDOWN_MS = 10 * 60_000;

/**
 * Folds attempts into an endpoint's stats, its `degraded` flag and its circuit breaker:
 * - degraded when an attempt fails and at least half of the latest attempts (of at least
 *   four) have failed, and cleared by three successes in a row;
 * - the breaker opens after `breakerThreshold` consecutive retriable failures (or
 *   successes slower than the latency budget, which hold a slot as long) and holds
 *   the endpoint's deliveries for a cooldown; then one half-open attempt either closes it
 *   or opens it again for twice as long (at most 10 minutes).
 */
export function foldHealth(
  start: HealthState,
  status: EndpointStatus,
  outcomes: readonly AttemptOutcome[],
  policy: HealthPolicy,
): { state: HealthState; status: EndpointStatus; transitions: HealthTransition[] } {
  let state = start;
  let current = status;
  const transitions: HealthTransition[] = [];
  for (const o of outcomes) {
    const recent = (state.recent + (o.succeeded ? 's' : 'f')).slice(-RECENT_WINDOW);
    state = {
      ...state,
      delivered: state.delivered + (o.succeeded ? 1 : 0),
      failed: state.failed + (o.succeeded ? 0 : 1),
      lastDeliveryAt: o.succeeded ? o.at : state.lastDeliveryAt,
      lastAttemptAt: o.at,
      recent,
    };
    // A slow success holds a slot as long as a timeout would: for the breaker it is one.
    if (o.succeeded && !o.slow) {
      if (state.breakerState !== 'closed') transitions.push({ kind: 'breaker_closed' });
      state = { ...state, breakerState: 'closed', breakerFailures: 0, breakerRetryAt: null, breakerOpens: 0 };
    } else if (o.retriable || o.slow) {
      const failures = state.breakerFailures + 1;
      const open = state.breakerState !== 'closed';
      // While open, only a failure after the cooldown (the half-open probe) reopens it;
      // earlier ones are stragglers that were in flight when it opened.
      const straggler = open && state.breakerRetryAt !== null && o.at < state.breakerRetryAt;
      if (straggler) {
        state = { ...state, breakerFailures: failures };
      } else if (open || failures >= policy.breakerThreshold) {
        const opens = state.breakerOpens + 1;
        const cooldown = Math.min(policy.breakerCooldownMs * 2 ** (opens - 1), Math.max(MAX_COOLDOWN_MS, policy.breakerCooldownMs));
        const retryAt = new Date(o.at.getTime() + cooldown);
        if (state.breakerState === 'closed') transitions.push({ kind: 'breaker_opened', consecutiveFailures: failures, retryAt });
        state = {
          ...state,
          breakerState: 'open',
          breakerFailures: failures,
          breakerOpenedAt: state.breakerState === 'closed' ? o.at : state.breakerOpenedAt,
          breakerRetryAt: retryAt,
          breakerOpens: opens,
        };
      } else {
        state = { ...state, breakerFailures: failures };
      }
    }
    const failedRecently = [...recent].filter((c) => c === 'f').length;
    // Only a failure makes an endpoint degraded: a success right after recovering, with the
    // old failures still in the window, would otherwise flap it back.
    if (current === 'active' && !o.succeeded && recent.length >= MIN_JUDGED && failedRecently * 2 >= recent.length) {
      current = 'degraded';
      transitions.push({ kind: 'degraded', failed: failedRecently, of: recent.length });
    } else if (current === 'degraded' && recent.endsWith('s'.repeat(RECOVERED_AFTER))) {
      current = 'active';
      transitions.push({ kind: 'recovered' });
    }
  }
  return { state, status: current, transitions };
}
