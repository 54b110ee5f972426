import { slackMessageError } from '@tocsin/testing';
import { webhookBodyFixture } from './webhook-body-fixture';
import { slackMessage } from '../src/deliveries/slack-message';

const body = webhookBodyFixture;

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
