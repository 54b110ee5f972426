import type { WebhookBody } from '@tocsin/contracts';
import { pagerDutyEventErrors } from '@tocsin/testing';
import { webhookBodyFixture } from './webhook-body-fixture';
import { pagerDutyEvent } from '../src/deliveries/pagerduty-event';

const KEY = 'a'.repeat(32);
const body = (overrides: Partial<WebhookBody> = {}): WebhookBody => webhookBodyFixture({ failure_layer: 'initialize', severity: 'P2', last_error: 'initialize timed out', ...overrides });

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
