import { EMPTY_HEALTH, foldHealth, type AttemptOutcome } from '../src/endpoints/endpoint-health';

const policy = { breakerThreshold: 5, breakerCooldownMs: 1000 };
const t0 = Date.parse('2026-01-01T00:00:00Z');
const at = (ms: number) => new Date(t0 + ms);
const fail = (ms: number, retriable = true): AttemptOutcome => ({ at: at(ms), succeeded: false, retriable });
const ok = (ms: number): AttemptOutcome => ({ at: at(ms), succeeded: true, retriable: false });

describe('endpoint health', () => {
  it('counts attempts and keeps the latest delivery time', () => {
    const { state } = foldHealth(EMPTY_HEALTH, 'active', [fail(1), fail(2), ok(3)], policy);
    expect(state).toMatchObject({ delivered: 1, failed: 2, lastDeliveryAt: at(3), lastAttemptAt: at(3), recent: 'ffs' });
  });

  it('turns degraded when recent attempts mostly fail, and clears after three successes', () => {
    const failing = foldHealth(EMPTY_HEALTH, 'active', [ok(1), fail(2), fail(3), fail(4, false)], policy);
    expect(failing.status).toBe('degraded');
    expect(failing.transitions).toEqual([{ kind: 'degraded', failed: 3, of: 4 }]);
    const better = foldHealth(failing.state, failing.status, [ok(5), ok(6)], policy);
    expect(better.status).toBe('degraded');
    const recovered = foldHealth(better.state, better.status, [ok(7)], policy);
    expect(recovered.status).toBe('active');
    expect(recovered.transitions).toEqual([{ kind: 'recovered' }]);
  });

  it('does not flap back to degraded on the success after it recovered, with old failures still in the window', () => {
    const failing = foldHealth(EMPTY_HEALTH, 'active', [fail(1), fail(2), fail(3), fail(4)], policy);
    const recovered = foldHealth(failing.state, failing.status, [ok(5), ok(6), ok(7)], policy);
    expect(recovered.status).toBe('active');
    const next = foldHealth(recovered.state, recovered.status, [ok(8)], policy);
    expect([next.status, next.transitions]).toEqual(['active', []]);
    // A failure with half the window failed makes it degraded again.
    expect(foldHealth(next.state, next.status, [fail(9)], policy).transitions).toEqual([{ kind: 'degraded', failed: 5, of: 9 }]);
  });

  it('counts slow successes as delivered, and against the breaker', () => {
    const slow = (ms: number): AttemptOutcome => ({ at: at(ms), succeeded: true, retriable: false, slow: true });
    const opened = foldHealth(EMPTY_HEALTH, 'active', [1, 2, 3, 4, 5].map(slow), policy);
    expect(opened.state).toMatchObject({ delivered: 5, failed: 0, breakerState: 'open', breakerFailures: 5 });
    expect(opened.transitions).toContainEqual({ kind: 'breaker_opened', consecutiveFailures: 5, retryAt: at(1005) });
    // A fast answer after the cooldown closes it, as any success does.
    expect(foldHealth(opened.state, opened.status, [ok(1100)], policy).state.breakerState).toBe('closed');
    // A slow answer does not reset a streak of failures.
    const mixed = foldHealth(EMPTY_HEALTH, 'active', [fail(1), fail(2), slow(3), fail(4), fail(5)], policy);
    expect(mixed.state.breakerState).toBe('open');
  });

  it('never marks a paused endpoint degraded', () => {
    expect(foldHealth(EMPTY_HEALTH, 'paused', [fail(1), fail(2), fail(3), fail(4)], policy).status).toBe('paused');
  });

  it('opens the breaker after consecutive retriable failures; a 4xx does not count', () => {
    const four = foldHealth(EMPTY_HEALTH, 'active', [fail(1), fail(2), fail(3), fail(4, false), fail(5)], policy);
    expect(four.state.breakerState).toBe('closed');
    const opened = foldHealth(four.state, four.status, [fail(6)], policy);
    expect(opened.state).toMatchObject({ breakerState: 'open', breakerFailures: 5, breakerRetryAt: at(1006) });
    expect(opened.transitions).toContainEqual({ kind: 'breaker_opened', consecutiveFailures: 5, retryAt: at(1006) });
  });

  it('stragglers do not extend an open breaker; a failed probe doubles the cooldown; a success closes it', () => {
    const opened = foldHealth(EMPTY_HEALTH, 'active', [1, 2, 3, 4, 5].map((ms) => fail(ms)), policy);
    const straggled = foldHealth(opened.state, opened.status, [fail(7)], policy);
    expect(straggled.state).toMatchObject({ breakerState: 'open', breakerRetryAt: at(1005), breakerOpens: 1 });
    const probeFailed = foldHealth(straggled.state, straggled.status, [fail(1100)], policy);
    expect(probeFailed.state).toMatchObject({ breakerState: 'open', breakerRetryAt: at(3100), breakerOpens: 2 });
    const closed = foldHealth(probeFailed.state, probeFailed.status, [ok(3200)], policy);
    expect(closed.state).toMatchObject({ breakerState: 'closed', breakerFailures: 0, breakerRetryAt: null });
    expect(closed.transitions).toContainEqual({ kind: 'breaker_closed' });
  });
});
