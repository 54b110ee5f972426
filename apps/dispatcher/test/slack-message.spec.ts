import type { WebhookBody } from '@tocsin/contracts';
import { slackMessageError } from '@tocsin/testing';
import { slackMessage } from '../src/deliveries/slack-message';

const body = (overrides: Partial<WebhookBody> = {}): WebhookBody => ({
  event: 'downtime_started',
  event_id: '00000000-0000-4000-8000-000000000001',
  dedup_key: 'tcs_0123456789abcdef0123456789abcdef',
  tenant_id: '00000000-0000-4000-8000-000000000002',
  server_slug: 'docs',
  server_url: 'https://docs.example.com/mcp',
  failure_layer: 'transport',
  severity: 'P1',
  started_at: '2026-12-07T10:00:00.000Z',
  probe_count: 3,
  last_error: 'connect ECONNREFUSED',
  dashboard_url: 'https://tocsin.example.com/v1/incidents/tcs_0123456789abcdef0123456789abcdef',
  delivered_at: '2026-12-07T10:00:01.000Z',
  sequence: 1,
  ...overrides,
});

describe('slackMessage', () => {
  it('is a message Slack takes, for every kind of alert and for an error of any length', () => {
    for (const event of ['downtime_started', 'downtime_resolved', 'slo_breach_warning', 'schema_drift_detected', 'webhook.test'] as const) {
      expect([event, slackMessageError(slackMessage(body({ event, last_error: 'e'.repeat(10_000), server_slug: 's'.repeat(63) })))]).toEqual([event, null]);
    }
  });

  it('says how long a resolved outage lasted', () => {
    const message = slackMessage(body({ event: 'downtime_resolved', duration_seconds: 3725, resolved_at: '2026-12-07T11:02:05.000Z' }));
    expect(message.text).toBe('docs recovered');
    expect(JSON.stringify(message.blocks)).toContain('*Duration*\\n1 h 2 min');
  });
});
