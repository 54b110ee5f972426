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

interface IncidentRow {
  dedup_key: string;
  tenant_id?: string;
  monitor_id?: string;
  incident_seq?: number;
  status?: 'open' | 'resolved';
  severity?: string;
  failure_layer?: string;
  started_at?: string;
  resolved_at?: string;
  probe_count?: number;
  last_error?: string | null;
  escalated_at?: string;
}

interface MaintenanceRow {
  tenant_id: string;
  monitor_id: string;
  maintenance_seq: number;
  reason?: string;
  window_id?: string | null;
  started_at?: string;
  ended_at?: string;
}

/**
 * Projects many events with a fixed number of statements: events are folded in memory
 * into new rows (inserted, ignoring ones that exist) and patches (applied after), so an
 * incident opened and resolved in one batch ends as one resolved row. Idempotent like
 * the per-event path, and equal to it.
 */
export async function projectMonitorEvents(manager: EntityManager, events: readonly StoredEvent[]): Promise<void> {
  const newIncidents = new Map<string, IncidentRow>();
  const incidentPatches = new Map<string, IncidentRow>();
  const newPeriods = new Map<string, MaintenanceRow>();
  const periodPatches = new Map<string, MaintenanceRow>();
  const patch = <R extends object>(map: Map<string, R>, key: string, base: R, fields: Partial<R>) => {
    map.set(key, { ...(map.get(key) ?? base), ...fields });
  };
  for (const event of events) {
    const { tenantId, monitorId } = streamOwner(event);
    switch (event.type) {
      case MONITOR_EVENTS.IncidentOpened.type: {
        const d = event.data as unknown as IncidentOpenedData;
        if (!newIncidents.has(d.dedup_key)) {
          newIncidents.set(d.dedup_key, {
            dedup_key: d.dedup_key,
            tenant_id: tenantId,
            monitor_id: monitorId,
            incident_seq: d.incident_seq,
            status: 'open',
            severity: d.severity,
            failure_layer: d.failure_layer,
            started_at: d.started_at,
            probe_count: d.probe_count,
            last_error: d.last_error,
          });
        }
        break;
      }
      case MONITOR_EVENTS.IncidentEscalated.type: {
        const d = event.data as unknown as IncidentEscalatedData;
        patch(incidentPatches, d.dedup_key, { dedup_key: d.dedup_key }, {
          severity: d.severity,
          failure_layer: d.failure_layer,
          escalated_at: d.escalated_at,
          probe_count: d.probe_count,
          last_error: d.last_error,
        });
        break;
      }
      case MONITOR_EVENTS.IncidentResolved.type: {
        const d = event.data as unknown as IncidentResolvedData;
        patch(incidentPatches, d.dedup_key, { dedup_key: d.dedup_key }, {
          status: 'resolved',
          resolved_at: d.resolved_at,
          probe_count: d.probe_count,
          last_error: d.last_error,
        });
        break;
      }
      case MONITOR_EVENTS.MaintenanceStarted.type: {
        const d = event.data as unknown as MaintenanceStartedData;
        const key = `${tenantId}\u0000${monitorId}\u0000${d.maintenance_seq}`;
        if (!newPeriods.has(key)) {
          newPeriods.set(key, {
            tenant_id: tenantId,
            monitor_id: monitorId,
            maintenance_seq: d.maintenance_seq,
            reason: d.reason,
            window_id: d.window_id,
            started_at: d.started_at,
          });
        }
        break;
      }
      case MONITOR_EVENTS.MaintenanceEnded.type: {
        const d = event.data as unknown as MaintenanceEndedData;
        const key = `${tenantId}\u0000${monitorId}\u0000${d.maintenance_seq}`;
        patch(periodPatches, key, { tenant_id: tenantId, monitor_id: monitorId, maintenance_seq: d.maintenance_seq }, { ended_at: d.ended_at });
        break;
      }
      default:
        break;
    }
  }
  if (newIncidents.size > 0) {
    await manager.query(
      `INSERT INTO incidents (dedup_key, tenant_id, monitor_id, incident_seq, status, severity, failure_layer, started_at, probe_count, last_error)
       SELECT dedup_key, tenant_id, monitor_id, incident_seq, status, severity, failure_layer, started_at, probe_count, last_error
       FROM jsonb_to_recordset($1::jsonb) AS x(dedup_key text, tenant_id text, monitor_id text, incident_seq int, status text,
         severity text, failure_layer text, started_at timestamptz, probe_count int, last_error text)
       ON CONFLICT (dedup_key) DO NOTHING`,
      [JSON.stringify([...newIncidents.values()])],
    );
  }
  if (incidentPatches.size > 0) {
    await manager.query(
      `UPDATE incidents i SET
         status = coalesce(x.status, i.status), severity = coalesce(x.severity, i.severity),
         failure_layer = coalesce(x.failure_layer, i.failure_layer), resolved_at = coalesce(x.resolved_at, i.resolved_at),
         escalated_at = coalesce(x.escalated_at, i.escalated_at), probe_count = coalesce(x.probe_count, i.probe_count),
         last_error = x.last_error
       FROM jsonb_to_recordset($1::jsonb) AS x(dedup_key text, status text, severity text, failure_layer text,
         resolved_at timestamptz, escalated_at timestamptz, probe_count int, last_error text)
       WHERE i.dedup_key = x.dedup_key`,
      [JSON.stringify([...incidentPatches.values()])],
    );
  }
  if (newPeriods.size > 0) {
    await manager.query(
      `INSERT INTO maintenance_periods (tenant_id, monitor_id, maintenance_seq, reason, window_id, started_at)
       SELECT tenant_id, monitor_id, maintenance_seq, reason, window_id, started_at
       FROM jsonb_to_recordset($1::jsonb) AS x(tenant_id text, monitor_id text, maintenance_seq int, reason text, window_id uuid, started_at timestamptz)
       ON CONFLICT DO NOTHING`,
      [JSON.stringify([...newPeriods.values()])],
    );
  }
  if (periodPatches.size > 0) {
    await manager.query(
      `UPDATE maintenance_periods m SET ended_at = x.ended_at
       FROM jsonb_to_recordset($1::jsonb) AS x(tenant_id text, monitor_id text, maintenance_seq int, ended_at timestamptz)
       WHERE m.tenant_id = x.tenant_id AND m.monitor_id = x.monitor_id AND m.maintenance_seq = x.maintenance_seq`,
      [JSON.stringify([...periodPatches.values()])],
    );
  }
}
