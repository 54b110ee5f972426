import type { WebhookBody } from '@tocsin/contracts';
import { pagerDutyEventErrors } from '@tocsin/testing';
import { pagerDutyEvent } from '../src/deliveries/pagerduty-event';

const KEY = 'a'.repeat(32);
const body = (overrides: Partial<WebhookBody> = {}): WebhookBody => ({
  event: 'downtime_started',
  event_id: '00000000-0000-4000-8000-000000000001',
  dedup_key: 'tcs_0123456789abcdef0123456789abcdef',
  tenant_id: '00000000-0000-4000-8000-000000000002',
  server_slug: 'docs',
  server_url: 'https://docs.example.com/mcp',
  failure_layer: 'initialize',
  severity: 'P2',
  started_at: '2026-12-07T10:00:00.000Z',
  probe_count: 3,
  last_error: 'initialize timed out',
  dashboard_url: 'https://tocsin.example.com/v1/incidents/tcs_0123456789abcdef0123456789abcdef',
  delivered_at: '2026-12-07T10:00:01.000Z',
  sequence: 1,
  ...overrides,
});

describe('pagerDutyEvent', () => {
  it('is an event the Events API v2 accepts, for every kind of alert', () => {
    for (const event of ['downtime_started', 'downtime_resolved', 'slo_breach_warning', 'schema_drift_detected', 'webhook.test'] as const) {
      expect([event, pagerDutyEventErrors(pagerDutyEvent(body({ event }), KEY))]).toEqual([event, []]);
    }
  });

  it('maps P1, P2 and P3 to critical, error and warning', () => {
    const severity = (s: WebhookBody['severity']) => (pagerDutyEvent(body({ severity: s }), KEY).payload as { severity: string }).severity;
    expect([severity('P1'), severity('P2'), severity('P3')]).toEqual(['critical', 'error', 'warning']);
  });

  it('keeps a long error inside the 1 024-character summary and still accepted', () => {
    const event = pagerDutyEvent(body({ last_error: 'x'.repeat(5000) }), KEY);
    expect((event.payload as { summary: string }).summary).toHaveLength(1024);
    expect(pagerDutyEventErrors(event)).toEqual([]);
  });

  it('resolves with the dedup key alone', () => {
    expect(pagerDutyEvent(body({ event: 'downtime_resolved' }), KEY)).toEqual({ routing_key: KEY, event_action: 'resolve', dedup_key: body().dedup_key });
  });
});
