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
  const common = { event_id: event.eventId, tenant_id: tenantId, monitor_id: monitorId, sequence: event.streamVersion };
  switch (event.type) {
    case MONITOR_EVENTS.IncidentOpened.type: {
      const d = event.data as unknown as IncidentOpenedData;
      return {
        ...common,
        event: 'downtime_started',
        dedup_key: d.dedup_key,
        server_slug: d.server_slug,
        server_url: d.server_url,
        failure_layer: d.failure_layer,
        severity: d.severity,
        started_at: d.started_at,
        probe_count: d.probe_count,
        last_error: d.last_error,
        occurred_at: d.started_at,
      };
    }
    case MONITOR_EVENTS.IncidentResolved.type: {
      const d = event.data as unknown as IncidentResolvedData;
      return {
        ...common,
        event: 'downtime_resolved',
        dedup_key: d.dedup_key,
        server_slug: d.server_slug,
        server_url: d.server_url,
        failure_layer: d.failure_layer,
        severity: d.severity,
        started_at: d.started_at,
        probe_count: d.probe_count,
        last_error: d.last_error,
        occurred_at: d.resolved_at,
        resolved_at: d.resolved_at,
        duration_seconds: d.duration_seconds,
      };
    }
    default:
      return null;
  }
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
