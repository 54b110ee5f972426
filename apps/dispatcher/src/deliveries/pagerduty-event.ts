import type { Severity, WebhookBody } from '@tocsin/contracts';

/** PagerDuty's severities for ours (DESIGN §9). */
const PD_SEVERITY: Record<Severity, 'critical' | 'error' | 'warning'> = { P1: 'critical', P2: 'error', P3: 'warning' };

/** PagerDuty caps a summary at 1 024 characters and a dedup key at 255. */
const SUMMARY_MAX = 1024;
const DEDUP_KEY_MAX = 255;

const EVENT_WORDS: Record<WebhookBody['event'], string> = {
  downtime_started: 'down',
  downtime_resolved: 'recovered',
  slo_breach_warning: 'SLO budget burning',
  schema_drift_detected: 'tools changed',
  'webhook.test': 'test event from Tocsin',
};

/**
 * A delivery's body as a PagerDuty Events API v2 event: `resolve` for a resolved incident,
 * `trigger` for everything else, with Tocsin's dedup key so PagerDuty groups an incident's
 * events exactly as Tocsin does; the whole Tocsin body rides along in `custom_details`.
 */
export function pagerDutyEvent(body: WebhookBody, routingKey: string): Record<string, unknown> {
  const dedupKey = body.dedup_key.slice(0, DEDUP_KEY_MAX);
  if (body.event === 'downtime_resolved') return { routing_key: routingKey, event_action: 'resolve', dedup_key: dedupKey };
  const layer = body.failure_layer ? ` (${body.failure_layer})` : '';
  const error = body.last_error ? `: ${body.last_error}` : '';
  const summary = `${body.severity} ${body.server_slug} ${EVENT_WORDS[body.event]}${layer}${error}`;
  return {
    routing_key: routingKey,
    event_action: 'trigger',
    dedup_key: dedupKey,
    payload: {
      summary: summary.length > SUMMARY_MAX ? `${summary.slice(0, SUMMARY_MAX - 1)}…` : summary,
      source: body.server_url || body.server_slug,
      severity: PD_SEVERITY[body.severity],
      timestamp: body.started_at,
      component: body.server_slug,
      ...(body.failure_layer ? { class: body.failure_layer } : {}),
      custom_details: body,
    },
    client: 'Tocsin',
    client_url: body.dashboard_url,
    links: [{ href: body.dashboard_url, text: 'Open in Tocsin' }],
  };
}
