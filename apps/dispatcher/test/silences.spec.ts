import type { AlertEvent } from '@tocsin/contracts';
import { silenceFor, type ActiveSilence } from '../src/deliveries/silences';

const T = '11111111-1111-4111-8111-111111111111';
const OTHER = '22222222-2222-4222-8222-222222222222';
const M = '33333333-3333-4333-8333-333333333333';

const silence = (over: Partial<ActiveSilence>): ActiveSilence => ({
  tenant_id: T,
  id: 'silence',
  monitor_id: null,
  severities: null,
  starts_at: new Date('2026-01-01T00:00:00Z'),
  ends_at: new Date('2026-01-01T01:00:00Z'),
  ...over,
});

describe('which silence covers an alert', () => {
  // Only who, what and when matter to a silence.
  const alert = (over: Partial<AlertEvent> = {}): AlertEvent =>
    ({ event: 'downtime_started', tenant_id: T, monitor_id: M, severity: 'P1', occurred_at: '2026-01-01T00:30:00.000Z', ...over }) as unknown as AlertEvent;

  it('matches by tenant, monitor (or every monitor) and severity (or every severity)', () => {
    expect(silenceFor(alert(), [silence({})])?.id).toBe('silence');
    expect(silenceFor(alert(), [silence({ monitor_id: M })])).toBeDefined();
    expect(silenceFor(alert(), [silence({ monitor_id: '44444444-4444-4444-8444-444444444444' })])).toBeUndefined();
    expect(silenceFor(alert(), [silence({ severities: ['P2', 'P3'] })])).toBeUndefined();
    expect(silenceFor(alert({ severity: 'P3' }), [silence({ severities: ['P2', 'P3'] })])).toBeDefined();
    // Another tenant's silence never hushes this tenant's pages.
    expect(silenceFor(alert(), [silence({ tenant_id: OTHER })])).toBeUndefined();
  });

  it('judges by when the alert happened, not when it is fanned out', () => {
    expect(silenceFor(alert({ occurred_at: '2025-12-31T23:59:59.000Z' }), [silence({})])).toBeUndefined();
    expect(silenceFor(alert({ occurred_at: '2026-01-01T01:00:00.000Z' }), [silence({})])).toBeUndefined();
    expect(silenceFor(alert({ occurred_at: '2026-01-01T00:00:00.000Z' }), [silence({})])).toBeDefined();
  });
});
