import {
  ALERT_EVENT_SCHEMA,
  HEADERS,
  MONITOR_EVENTS,
  monitorKey,
  type AlertEvent,
  type IncidentEscalatedData,
  type IncidentOpenedData,
  type IncidentResolvedData,
  type SchemaDriftDetectedData,
  type SloBreachWarnedData,
} from '@tocsin/contracts';
import type { OutboxMessage, StoredEvent } from '@tocsin/event-store';

/**
 * Maps a stored monitor event to the alert the dispatcher fans out, or null if none is due.
 * An escalation is announced as a `downtime_started` with the same dedup key, the new
 * severity and `escalated_from`, so a receiver that collapses on the key updates its page.
 */
export function alertFromEvent(event: StoredEvent, tenantId: string, monitorId: string): AlertEvent | null {
  const ids = { event_id: event.eventId, tenant_id: tenantId, monitor_id: monitorId, sequence: event.streamVersion };
  switch (event.type) {
    case MONITOR_EVENTS.IncidentOpened.type: {
      const d = event.data as unknown as IncidentOpenedData;
      return { ...ids, ...incidentFields(d), event: 'downtime_started', occurred_at: d.started_at };
    }
    case MONITOR_EVENTS.IncidentEscalated.type: {
      const d = event.data as unknown as IncidentEscalatedData;
      return {
        ...ids,
        ...incidentFields(d),
        event: 'downtime_started',
        occurred_at: d.escalated_at,
        escalated_from: d.previous_severity,
        previous_failure_layer: d.previous_failure_layer,
      };
    }
    case MONITOR_EVENTS.IncidentResolved.type: {
      const d = event.data as unknown as IncidentResolvedData;
      return {
        ...ids,
        ...incidentFields(d),
        event: 'downtime_resolved',
        occurred_at: d.resolved_at,
        resolved_at: d.resolved_at,
        duration_seconds: d.duration_seconds,
      };
    }
    case MONITOR_EVENTS.SchemaDriftDetected.type: {
      const d = event.data as unknown as SchemaDriftDetectedData;
      return {
        ...ids,
        event: 'schema_drift_detected',
        dedup_key: d.dedup_key,
        server_slug: d.server_slug,
        server_url: d.server_url,
        failure_layer: null,
        severity: d.severity,
        started_at: d.detected_at,
        probe_count: 0,
        last_error: null,
        occurred_at: d.detected_at,
        schema: {
          previous_hash: d.previous_hash,
          current_hash: d.current_hash,
          added: [...d.added],
          removed: [...d.removed],
          changed: [...d.changed],
          ...(d.truncated
            ? { truncated: true, added_count: d.added_count, removed_count: d.removed_count, changed_count: d.changed_count }
            : {}),
          ...(d.impact ? { impact: d.impact, breaking: [...(d.breaking ?? [])] } : {}),
        },
      };
    }
    case MONITOR_EVENTS.SloBreachWarned.type: {
      const d = event.data as unknown as SloBreachWarnedData;
      return {
        ...ids,
        event: 'slo_breach_warning',
        dedup_key: d.dedup_key,
        server_slug: d.server_slug,
        server_url: d.server_url,
        failure_layer: null,
        severity: d.severity,
        started_at: d.window_start,
        probe_count: 0,
        last_error: null,
        occurred_at: d.warned_at,
        slo: { target: d.target, window_days: d.window_days, availability: d.availability, budget_remaining: d.budget_remaining },
      };
    }
    default:
      return null;
  }
}

function incidentFields(d: IncidentOpenedData | IncidentResolvedData | IncidentEscalatedData) {
  return {
    dedup_key: d.dedup_key,
    server_slug: d.server_slug,
    server_url: d.server_url,
    failure_layer: d.failure_layer,
    severity: d.severity,
    started_at: d.started_at,
    probe_count: d.probe_count,
    last_error: d.last_error,
  };
}

/** The alert's record; `traceparent` (the transition's span) carries the trace on to the dispatcher. */
export function alertOutboxMessage(topic: string, alert: AlertEvent, traceparent?: string): OutboxMessage {
  return {
    topic,
    key: monitorKey(alert.tenant_id, alert.monitor_id),
    value: JSON.stringify(alert),
    headers: {
      [HEADERS.contentType]: 'application/json',
      [HEADERS.schema]: ALERT_EVENT_SCHEMA,
      [HEADERS.tenantId]: alert.tenant_id,
      [HEADERS.eventId]: alert.event_id,
      ...(traceparent ? { [HEADERS.traceparent]: traceparent } : {}),
    },
  };
}
