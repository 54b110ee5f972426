import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { SeverityPolicy } from './severity-policy';
import { INITIAL_STATE, type MaintenanceWindow, type MonitorSettings, type MonitorState, type PendingProbe } from './monitor.aggregate';
import { DEFAULT_SLO } from './slo';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface MonitorRef {
  readonly tenantId: string;
  /** The monitor's id or its slug. */
  readonly ref: string;
}

export interface LoadedMonitor {
  readonly settings: MonitorSettings;
  readonly state: MonitorState;
}

interface LoadedRow {
  id: string;
  tenant_id: string;
  slug: string;
  url: string;
  confirm_after: number;
  recover_after: number;
  severity_policy: SeverityPolicy | null;
  slo: { target?: number; window_days?: number } | null;
  tenant_policy: SeverityPolicy | null;
  state: Partial<MonitorState> | null;
  windows: Array<{ id: string; starts_at: string; ends_at: string }> | null;
}

/**
 * The snapshot without fields at their initial value, and held-back results without their
 * empty (null) fields: about 60 % of the bytes of a healthy monitor's full state.
 */
export function compactState(state: MonitorState): Record<string, unknown> {
  const initial = INITIAL_STATE as unknown as Record<string, unknown>;
  const top: Record<string, unknown> = {};
  for (const key in state) {
    const value = state[key as keyof MonitorState];
    if (value !== initial[key]) top[key] = value;
  }
  if (state.pending.length > 0) top.pending = state.pending.map(withoutNulls);
  return top;
}

function withoutNulls(probe: PendingProbe): Partial<PendingProbe> {
  const out: Record<string, unknown> = {};
  for (const key in probe) {
    const value = probe[key as keyof PendingProbe];
    if (value !== null) out[key] = value;
  }
  return out as Partial<PendingProbe>;
}

const EMPTY_PENDING = { error: null, status: null, toolsHash: null, tools: null } as const;

/** The whole state from a stored snapshot (written by compactState, or in full by older versions). */
export function expandState(stored: Partial<MonitorState>): MonitorState {
  const state = { ...INITIAL_STATE, ...stored };
  return stored.pending ? { ...state, pending: stored.pending.map((p) => ({ ...EMPTY_PENDING, ...p })) } : state;
}

export const refKey = (tenantId: string, ref: string) => `${tenantId}:${ref.toLowerCase()}`;

@Injectable()
export class MonitorRepository {
  /**
   * Every monitor a batch names, in ONE statement: settings, the tenant's severity policy,
   * maintenance windows, and the snapshot (row-locked for the transaction). Keys of the
   * answer are `tenant:ref` for each ref that resolved (id or slug, within its tenant).
   */
  async loadMany(manager: EntityManager, refs: readonly MonitorRef[], reorderToleranceMs: number): Promise<Map<string, LoadedMonitor>> {
    const byId: MonitorRef[] = [];
    const bySlug: MonitorRef[] = [];
    const seen = new Set<string>();
    for (const r of refs) {
      const key = refKey(r.tenantId, r.ref);
      if (seen.has(key) || !UUID.test(r.tenantId)) continue;
      seen.add(key);
      (UUID.test(r.ref) ? byId : bySlug).push(r);
    }
    const out = new Map<string, LoadedMonitor>();
    if (byId.length + bySlug.length === 0) return out;
    const rows: LoadedRow[] = await manager.query(
      `WITH wanted AS (
         SELECT m.* FROM json_to_recordset($1::json) AS r(t uuid, r uuid) JOIN monitors m ON m.id = r.r AND m.tenant_id = r.t
         UNION
         SELECT m.* FROM json_to_recordset($2::json) AS r(t uuid, r text) JOIN monitors m ON m.tenant_id = r.t AND m.slug = r.r
       )
       SELECT w.id, w.tenant_id, w.slug, w.url, w.confirm_after, w.recover_after, w.severity_policy, w.slo,
              ts.severity_policy AS tenant_policy, s.state, mw.windows
       FROM wanted w
       LEFT JOIN tenant_settings ts ON ts.tenant_id = w.tenant_id
       LEFT JOIN LATERAL (
         SELECT st.state FROM monitor_state st WHERE st.tenant_id = w.tenant_id::text AND st.monitor_id = w.id::text FOR UPDATE
       ) s ON true
       LEFT JOIN LATERAL (
         SELECT json_agg(json_build_object('id', x.id, 'starts_at', x.starts_at, 'ends_at', x.ends_at) ORDER BY x.starts_at) AS windows
         FROM maintenance_windows x WHERE x.monitor_id = w.id
       ) mw ON true`,
      // JSON documents rather than uuid[]/text[] literals, which the client escapes element by element.
      [JSON.stringify(byId.map((r) => ({ t: r.tenantId, r: r.ref }))), JSON.stringify(bySlug.map((r) => ({ t: r.tenantId, r: r.ref })))],
    );
    for (const row of rows) {
      const loaded: LoadedMonitor = {
        settings: {
          tenantId: row.tenant_id,
          monitorId: row.id,
          slug: row.slug,
          url: row.url,
          confirmAfter: row.confirm_after,
          recoverAfter: row.recover_after,
          severityPolicy: row.severity_policy ?? undefined,
          tenantSeverityPolicy: row.tenant_policy ?? undefined,
          slo: { target: row.slo?.target ?? DEFAULT_SLO.target, windowDays: row.slo?.window_days ?? DEFAULT_SLO.windowDays },
          maintenanceWindows: (row.windows ?? []).map(
            (w): MaintenanceWindow => ({ id: w.id, startsAt: new Date(w.starts_at).toISOString(), endsAt: new Date(w.ends_at).toISOString() }),
          ),
          reorderToleranceMs,
        },
        state: row.state ? expandState(row.state) : INITIAL_STATE,
      };
      out.set(refKey(row.tenant_id, row.id), loaded);
      out.set(refKey(row.tenant_id, row.slug), loaded);
    }
    return out;
  }

  /**
   * Every changed snapshot in ONE statement, sent as one JSON document: Postgres reads a
   * jsonb recordset about twice as fast as a jsonb[] array literal, whose elements it
   * unescapes and parses one by one (docs/benchmarks.md, "Router").
   */
  async saveSnapshots(manager: EntityManager, snapshots: ReadonlyArray<{ settings: MonitorSettings; state: MonitorState }>): Promise<void> {
    if (snapshots.length === 0) return;
    const rows = snapshots.map((x) => ({
      t: x.settings.tenantId,
      m: x.settings.monitorId,
      v: x.state.version,
      s: compactState(x.state),
      p: x.state.lastObservedAt,
    }));
    await manager.query(
      `INSERT INTO monitor_state (tenant_id, monitor_id, stream_version, state, last_probe_at, updated_at)
       SELECT t, m, v, s, p, now() FROM jsonb_to_recordset($1::jsonb) AS x(t text, m text, v int, s jsonb, p timestamptz)
       ON CONFLICT (tenant_id, monitor_id)
       DO UPDATE SET stream_version = EXCLUDED.stream_version, state = EXCLUDED.state,
                     last_probe_at = EXCLUDED.last_probe_at, updated_at = now()`,
      [JSON.stringify(rows)],
    );
  }
}
