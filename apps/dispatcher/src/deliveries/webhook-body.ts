import type { AlertEvent, WebhookBody } from '@tocsin/contracts';

export type StoredBody = Omit<WebhookBody, 'delivered_at'>;

/** Alerts about a monitor that open no incident: their page is the monitor's (drift diff, SLA). */
const MONITOR_SIGNALS: ReadonlySet<string> = new Set(['schema_drift_detected', 'slo_breach_warning']);

/**
 * Where a person following the webhook lands: the incident's page (its API address,
 * which sends browsers to the console page), or the monitor's console page for an alert
 * that opened no incident.
 */
export function dashboardUrl(alert: Pick<AlertEvent, 'event' | 'dedup_key' | 'monitor_id'>, dashboardBaseUrl: string): string {
  const base = dashboardBaseUrl.replace(/\/$/, '');
  return MONITOR_SIGNALS.has(alert.event)
    ? `${base}/console/monitors/${encodeURIComponent(alert.monitor_id)}`
    : `${base}/v1/incidents/${encodeURIComponent(alert.dedup_key)}`;
}

/**
 * The DESIGN §5 body minus delivered_at, which each attempt stamps when it sends. The
 * `slo` and `schema` blocks ride along on the alerts that carry them.
 */
export function webhookBody(alert: AlertEvent, dashboardBaseUrl: string): StoredBody {
  return {
    event: alert.event,
    event_id: alert.event_id,
    dedup_key: alert.dedup_key,
    tenant_id: alert.tenant_id,
    server_slug: alert.server_slug,
    server_url: alert.server_url,
    failure_layer: alert.failure_layer,
    severity: alert.severity,
    started_at: alert.started_at,
    probe_count: alert.probe_count,
    last_error: alert.last_error,
    dashboard_url: dashboardUrl(alert, dashboardBaseUrl),
    sequence: alert.sequence,
    ...(alert.resolved_at !== undefined ? { resolved_at: alert.resolved_at } : {}),
    ...(alert.duration_seconds !== undefined ? { duration_seconds: alert.duration_seconds } : {}),
    ...(alert.slo !== undefined ? { slo: alert.slo } : {}),
    ...(alert.schema !== undefined ? { schema: alert.schema } : {}),
  };
}
