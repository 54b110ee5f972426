import { dashboardUrl } from '../src/deliveries/webhook-body';

describe('dashboardUrl', () => {
  const alert = { dedup_key: 'tcs_0123abcd', monitor_id: '7a1c6c52-94a1-4d0c-8d0e-3f9b7f6f2a10' };

  it.each(['downtime_started', 'downtime_resolved'] as const)('sends %s to the incident page', (event) => {
    expect(dashboardUrl({ ...alert, event }, 'https://tocsin.example.com/')).toBe('https://tocsin.example.com/v1/incidents/tcs_0123abcd');
  });

  it.each(['schema_drift_detected', 'slo_breach_warning'] as const)('sends %s, which opens no incident, to the monitor page', (event) => {
    expect(dashboardUrl({ ...alert, event }, 'https://tocsin.example.com')).toBe(
      `https://tocsin.example.com/console/monitors/${alert.monitor_id}`,
    );
  });
});
