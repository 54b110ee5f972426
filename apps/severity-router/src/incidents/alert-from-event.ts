import {
  ALERT_EVENT_SCHEMA,
  HEADERS,
  MONITOR_EVENTS,
  monitorKey,
  type AlertEvent,
  type IncidentOpenedData,
  type IncidentResolvedData,
} from '@tocsin/contracts';
import type { OutboxMessage, StoredEvent } from '@tocsin/event-store';

/** Maps a stored monitor event to the alert the dispatcher fans out, or null if none is due. */
export function alertFromEvent(event: StoredEvent, tenantId: string, monitorId: string): AlertEvent | null {
  if (event.type !== MONITOR_EVENTS.IncidentOpened.type && event.type !== MONITOR_EVENTS.IncidentResolved.type) return null;
  const d = event.data as unknown as IncidentOpenedData & Partial<IncidentResolvedData>;
  const base = {
    event_id: event.eventId,
    tenant_id: tenantId,
    monitor_id: monitorId,
    sequence: event.streamVersion,
    dedup_key: d.dedup_key,
    server_slug: d.server_slug,
    server_url: d.server_url,
    failure_layer: d.failure_layer,
    severity: d.severity,
    started_at: d.started_at,
    probe_count: d.probe_count,
    last_error: d.last_error,
  };
  if (event.type === MONITOR_EVENTS.IncidentOpened.type) return { ...base, event: 'downtime_started', occurred_at: d.started_at };
  const resolvedAt = d.resolved_at ?? d.started_at;
  return {
    ...base,
    event: 'downtime_resolved',
    occurred_at: resolvedAt,
    resolved_at: resolvedAt,
    duration_seconds: d.duration_seconds ?? 0,
  };
}

export function alertOutboxMessage(topic: string, alert: AlertEvent): OutboxMessage {
  return {
    topic,
    key: monitorKey(alert.tenant_id, alert.monitor_id),
    value: JSON.stringify(alert),
    headers: {
      [HEADERS.contentType]: 'application/json',
      [HEADERS.schema]: ALERT_EVENT_SCHEMA,
      [HEADERS.tenantId]: alert.tenant_id,
      [HEADERS.eventId]: alert.event_id,
    },
  };
}
