import type { WebhookBody } from '@tocsin/contracts';

/** A complete webhook body for the specs of what is built from one; override what a case is about. */
export const webhookBodyFixture = (overrides: Partial<WebhookBody> = {}): WebhookBody => ({
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
