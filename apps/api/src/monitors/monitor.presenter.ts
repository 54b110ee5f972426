import type { IncidentEntity, MaintenanceWindowEntity, MonitorEntity, MonitorStateEntity } from '@tocsin/database';

export function presentMonitor(m: MonitorEntity) {
  return {
    id: m.id,
    tenant_id: m.tenant_id,
    slug: m.slug,
    name: m.name,
    url: m.url,
    kind: m.kind,
    interval_seconds: m.interval_seconds,
    timeout_ms: m.timeout_ms,
    confirm_after: m.confirm_after,
    recover_after: m.recover_after,
    severity_policy: m.severity_policy,
    headers: m.headers,
    slo: { target: m.slo?.target ?? 0.999, window_days: m.slo?.window_days ?? 30 },
    created_at: m.created_at,
    updated_at: m.updated_at,
  };
}

export function presentIncident(i: IncidentEntity) {
  return {
    dedup_key: i.dedup_key,
    tenant_id: i.tenant_id,
    monitor_id: i.monitor_id,
    status: i.status,
    severity: i.severity,
    failure_layer: i.failure_layer,
    started_at: i.started_at,
    resolved_at: i.resolved_at,
    probe_count: i.probe_count,
    last_error: i.last_error,
  };
}

interface SnapshotFields {
  maintenance?: { startedAt: string; reason: string } | null;
  toolsHash?: string | null;
  consecutiveFailures?: number;
  consecutiveSuccesses?: number;
  lastLayer?: string | null;
  lastError?: string | null;
  lastOk?: boolean | null;
}

/**
 * `down` while an incident is open, `maintenance` while a window is active or a receiver
 * said so, `failing` on an unconfirmed streak, `unknown` before any probe.
 */
export function presentStatus(
  monitor: MonitorEntity,
  state: MonitorStateEntity | null,
  open: IncidentEntity | null,
  activeWindow: MaintenanceWindowEntity | null = null,
) {
  const s = (state?.state ?? {}) as SnapshotFields;
  const inMaintenance = Boolean(activeWindow) || Boolean(s.maintenance);
  const status = open
    ? 'down'
    : inMaintenance
      ? 'maintenance'
      : !state || s.lastOk == null
        ? 'unknown'
        : s.lastOk
          ? 'up'
          : 'failing';
  return {
    monitor_id: monitor.id,
    tenant_id: monitor.tenant_id,
    slug: monitor.slug,
    status,
    open_incident: open ? presentIncident(open) : null,
    last_probe_at: state?.last_probe_at ?? null,
    last_ok: s.lastOk ?? null,
    last_failure_layer: s.lastOk === false ? (s.lastLayer ?? null) : null,
    last_error: s.lastOk === false ? (s.lastError ?? null) : null,
    consecutive_failures: s.consecutiveFailures ?? 0,
    consecutive_successes: s.consecutiveSuccesses ?? 0,
    maintenance: inMaintenance
      ? { since: s.maintenance?.startedAt ?? activeWindow?.starts_at ?? null, until: activeWindow?.ends_at ?? null, reason: activeWindow?.reason ?? s.maintenance?.reason ?? null }
      : null,
    tools_hash: s.toolsHash ?? null,
  };
}
