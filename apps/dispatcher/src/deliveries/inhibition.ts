import type { EntityManager } from 'typeorm';
import type { AlertEvent } from '@tocsin/contracts';

const INCIDENT_EVENTS: ReadonlySet<string> = new Set(['downtime_started', 'incident_escalated', 'downtime_resolved']);

/** The host a monitor's URL names, lower-cased without its port; undefined when it names none. */
export function hostOf(url: string): string | undefined {
  try {
    return new URL(url).hostname.toLowerCase() || undefined;
  } catch {
    return undefined;
  }
}

/**
 * Inhibition by host, for tenants that turned it on (`inhibit_by_host`): the first monitor
 * whose transport outage of a host opens claims the host and pages; while its incident is
 * open, every other incident on that host (any layer) is inhibited, its start, escalations
 * and resolution alike, so five monitors on a host that went away make one page per
 * endpoint, not five. The claim is a row under a unique index per tenant and host, so two
 * fan-outs racing for one host cannot both win: the second waits for the first to commit
 * and then names it. The claim ends with its incident; an incident on the host after that
 * pages (and claims) again.
 *
 * Answers, by alert event id, the dedup key of the incident that inhibits it.
 */
export async function inhibitions(manager: EntityManager, alerts: readonly AlertEvent[]): Promise<Map<string, string>> {
  const inhibited = new Map<string, string>();
  const candidates = alerts.filter((a) => INCIDENT_EVENTS.has(a.event));
  if (candidates.length === 0) return inhibited;
  const optedIn: Array<{ tenant_id: string }> = await manager.query(
    'SELECT tenant_id FROM tenant_settings WHERE tenant_id = ANY($1::uuid[]) AND inhibit_by_host',
    [[...new Set(candidates.map((a) => a.tenant_id))]],
  );
  const tenants = new Set(optedIn.map((r) => r.tenant_id));
  for (const alert of candidates) {
    if (!tenants.has(alert.tenant_id)) continue;
    const by = alert.event === 'downtime_started' ? await onStart(manager, alert) : await onLater(manager, alert);
    if (by !== undefined) inhibited.set(alert.event_id, by);
  }
  return inhibited;
}

async function onStart(manager: EntityManager, alert: AlertEvent): Promise<string | undefined> {
  const host = hostOf(alert.server_url);
  if (host === undefined) return undefined;
  if (alert.failure_layer === 'transport') {
    const claimed: unknown[] = await manager.query(
      `INSERT INTO host_outages (tenant_id, dedup_key, host) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING RETURNING dedup_key`,
      [alert.tenant_id, alert.dedup_key, host],
    );
    if (claimed.length === 1) return undefined;
  }
  const [claim]: Array<{ dedup_key: string }> = await manager.query(
    'SELECT dedup_key FROM host_outages WHERE tenant_id = $1 AND host = $2 AND inhibited_by IS NULL',
    [alert.tenant_id, host],
  );
  if (!claim || claim.dedup_key === alert.dedup_key) return undefined;
  await manager.query(
    `INSERT INTO host_outages (tenant_id, dedup_key, host, inhibited_by) VALUES ($1, $2, $3, $4)
     ON CONFLICT (tenant_id, dedup_key) DO NOTHING`,
    [alert.tenant_id, alert.dedup_key, host, claim.dedup_key],
  );
  return claim.dedup_key;
}

/** An escalation keeps its start's fate; a resolution too, and ends the row (a claim ends with it). */
async function onLater(manager: EntityManager, alert: AlertEvent): Promise<string | undefined> {
  const sql =
    alert.event === 'downtime_resolved'
      ? // As a SELECT, so the driver answers rows (a bare DELETE answers [rows, count]).
        'WITH gone AS (DELETE FROM host_outages WHERE tenant_id = $1 AND dedup_key = $2 RETURNING inhibited_by) SELECT inhibited_by FROM gone'
      : 'SELECT inhibited_by FROM host_outages WHERE tenant_id = $1 AND dedup_key = $2';
  const [row]: Array<{ inhibited_by: string | null }> = await manager.query(sql, [alert.tenant_id, alert.dedup_key]);
  return row?.inhibited_by ?? undefined;
}
