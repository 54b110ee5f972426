import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { INITIAL_STATE, type MonitorSettings, type MonitorState } from './monitor.aggregate';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface LoadedMonitor {
  readonly settings: MonitorSettings;
  readonly state: MonitorState;
}

@Injectable()
export class MonitorRepository {
  /**
   * Finds a monitor of this tenant by id or by slug (external producers often know only the
   * slug) and locks its snapshot row for the transaction. Null when the tenant has no such monitor.
   */
  async load(manager: EntityManager, tenantId: string, monitorRef: string): Promise<LoadedMonitor | null> {
    if (!UUID.test(tenantId)) return null;
    const column = UUID.test(monitorRef) ? 'id' : 'slug';
    const [row] = await manager.query(
      `SELECT id, slug, url, confirm_after, recover_after, severity_policy FROM monitors WHERE tenant_id = $1 AND ${column} = $2`,
      [tenantId, monitorRef],
    );
    if (!row) return null;
    const [snapshot] = await manager.query(
      'SELECT state FROM monitor_state WHERE tenant_id = $1 AND monitor_id = $2 FOR UPDATE',
      [tenantId, row.id],
    );
    return {
      settings: {
        tenantId,
        monitorId: row.id,
        slug: row.slug,
        url: row.url,
        confirmAfter: row.confirm_after,
        recoverAfter: row.recover_after,
        severityPolicy: row.severity_policy,
      },
      state: snapshot ? { ...INITIAL_STATE, ...(snapshot.state as MonitorState) } : INITIAL_STATE,
    };
  }

  async saveSnapshot(manager: EntityManager, settings: MonitorSettings, state: MonitorState): Promise<void> {
    await manager.query(
      `INSERT INTO monitor_state (tenant_id, monitor_id, stream_version, state, last_probe_at, updated_at)
       VALUES ($1, $2, $3, $4::jsonb, $5, now())
       ON CONFLICT (tenant_id, monitor_id)
       DO UPDATE SET stream_version = EXCLUDED.stream_version, state = EXCLUDED.state,
                     last_probe_at = EXCLUDED.last_probe_at, updated_at = now()`,
      [settings.tenantId, settings.monitorId, state.version, JSON.stringify(state), state.lastObservedAt],
    );
  }
}
