import type { EntityManager } from 'typeorm';
import {
  MONITOR_EVENTS,
  type IncidentEscalatedData,
  type IncidentOpenedData,
  type IncidentResolvedData,
  type MaintenanceEndedData,
  type MaintenanceStartedData,
} from '@tocsin/contracts';
import type { StoredEvent } from '@tocsin/event-store';

/** The read models fed by monitor streams; a rebuild empties exactly these. */
export const MONITOR_PROJECTION_TABLES = ['incidents', 'maintenance_periods'] as const;

/** Tenant and monitor of a monitor-stream event: from its metadata, or its stream id for older events. */
export function streamOwner(event: StoredEvent): { tenantId: string; monitorId: string } {
  const { tenant_id: tenantId, monitor_id: monitorId } = event.metadata;
  if (typeof monitorId === 'string') return { tenantId, monitorId };
  const prefix = `monitor-${tenantId}-`;
  return { tenantId, monitorId: event.streamId.startsWith(prefix) ? event.streamId.slice(prefix.length) : event.streamId };
}

/**
 * Keeps the incidents and maintenance read models in step with monitor streams. Each write
 * is idempotent per event, so a rebuild and the live path produce the same rows.
 */
export async function projectMonitorEvent(manager: EntityManager, event: StoredEvent): Promise<void> {
  const { tenantId, monitorId } = streamOwner(event);
  switch (event.type) {
    case MONITOR_EVENTS.IncidentOpened.type: {
      const d = event.data as unknown as IncidentOpenedData;
      await manager.query(
        `INSERT INTO incidents (dedup_key, tenant_id, monitor_id, incident_seq, status, severity, failure_layer, started_at, probe_count, last_error)
         VALUES ($1, $2, $3, $4, 'open', $5, $6, $7, $8, $9) ON CONFLICT (dedup_key) DO NOTHING`,
        [d.dedup_key, tenantId, monitorId, d.incident_seq, d.severity, d.failure_layer, d.started_at, d.probe_count, d.last_error],
      );
      return;
    }
    case MONITOR_EVENTS.IncidentEscalated.type: {
      const d = event.data as unknown as IncidentEscalatedData;
      await manager.query(
        `UPDATE incidents SET severity = $2, failure_layer = $3, escalated_at = $4, probe_count = $5, last_error = $6 WHERE dedup_key = $1`,
        [d.dedup_key, d.severity, d.failure_layer, d.escalated_at, d.probe_count, d.last_error],
      );
      return;
    }
    case MONITOR_EVENTS.IncidentResolved.type: {
      const d = event.data as unknown as IncidentResolvedData;
      await manager.query(
        `UPDATE incidents SET status = 'resolved', resolved_at = $2, probe_count = $3, last_error = $4 WHERE dedup_key = $1`,
        [d.dedup_key, d.resolved_at, d.probe_count, d.last_error],
      );
      return;
    }
    case MONITOR_EVENTS.MaintenanceStarted.type: {
      const d = event.data as unknown as MaintenanceStartedData;
      await manager.query(
        `INSERT INTO maintenance_periods (tenant_id, monitor_id, maintenance_seq, reason, window_id, started_at)
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING`,
        [tenantId, monitorId, d.maintenance_seq, d.reason, d.window_id, d.started_at],
      );
      return;
    }
    case MONITOR_EVENTS.MaintenanceEnded.type: {
      const d = event.data as unknown as MaintenanceEndedData;
      await manager.query(
        `UPDATE maintenance_periods SET ended_at = $4 WHERE tenant_id = $1 AND monitor_id = $2 AND maintenance_seq = $3`,
        [tenantId, monitorId, d.maintenance_seq, d.ended_at],
      );
      return;
    }
    default:
      return;
  }
}
