import type { AlertEvent } from '@tocsin/contracts';
import { endpointMatches } from '../src/endpoints/endpoint-matcher';

const alert = { tenant_id: 't1', event: 'downtime_started', severity: 'P1' } as AlertEvent;
const endpoint = { tenant_id: 't1', events: ['*'], severities: ['P1', 'P2', 'P3'], include_recovery: true, status: 'active' as const };

describe('endpointMatches', () => {
  it('matches on tenant, event type, severity and status', () => {
    expect(endpointMatches(endpoint, alert)).toBe(true);
    expect(endpointMatches({ ...endpoint, tenant_id: 't2' }, alert)).toBe(false);
    expect(endpointMatches({ ...endpoint, events: ['schema_drift_detected'] }, alert)).toBe(false);
    expect(endpointMatches({ ...endpoint, severities: ['P2', 'P3'] }, alert)).toBe(false);
    expect(endpointMatches({ ...endpoint, status: 'disabled' }, alert)).toBe(false);
  });

  it('keeps paused endpoints so their deliveries are recorded as skipped', () => {
    expect(endpointMatches({ ...endpoint, status: 'paused' }, alert)).toBe(true);
  });

  it('sends recoveries only to endpoints that asked for them', () => {
    const resolved = { ...alert, event: 'downtime_resolved' } as AlertEvent;
    expect(endpointMatches({ ...endpoint, include_recovery: false }, resolved)).toBe(false);
    expect(endpointMatches(endpoint, resolved)).toBe(true);
  });
});
