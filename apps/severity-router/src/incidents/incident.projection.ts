import type { EntityManager } from 'typeorm';
import { MONITOR_EVENTS, type IncidentOpenedData, type IncidentResolvedData } from '@tocsin/contracts';
import type { StoredEvent } from '@tocsin/event-store';

/** Keeps the incidents read model in step with monitor streams; idempotent per event. */
export async function projectIncident(
  manager: EntityManager,
  tenantId: string,
  monitorId: string,
  event: StoredEvent,
): Promise<void> {
  if (event.type === MONITOR_EVENTS.IncidentOpened.type) {
    const d = event.data as unknown as IncidentOpenedData;
    await manager.query(
      `INSERT INTO incidents (dedup_key, tenant_id, monitor_id, incident_seq, status, severity, failure_layer, started_at, probe_count, last_error)
       VALUES ($1, $2, $3, $4, 'open', $5, $6, $7, $8, $9) ON CONFLICT (dedup_key) DO NOTHING`,
      [d.dedup_key, tenantId, monitorId, d.incident_seq, d.severity, d.failure_layer, d.started_at, d.probe_count, d.last_error],
    );
  } else if (event.type === MONITOR_EVENTS.IncidentResolved.type) {
    const d = event.data as unknown as IncidentResolvedData;
    await manager.query(
      `UPDATE incidents SET status = 'resolved', resolved_at = $2, probe_count = $3, last_error = $4 WHERE dedup_key = $1`,
      [d.dedup_key, d.resolved_at, d.probe_count, d.last_error],
    );
  }
}
