import type { EntityManager } from 'typeorm';
import type { AlertEvent } from '@tocsin/contracts';

/** A silence as the fan-out matches it. */
export interface ActiveSilence {
  readonly tenant_id: string;
  readonly id: string;
  readonly monitor_id: string | null;
  readonly severities: readonly string[] | null;
  readonly starts_at: Date;
  readonly ends_at: Date;
}

/**
 * The silences of these tenants that may cover an alert of the batch: those that started
 * by now and had not ended when the batch's oldest alert happened. One statement per batch.
 */
export async function loadSilences(manager: EntityManager, alerts: readonly AlertEvent[], tenantIds: readonly string[]): Promise<ActiveSilence[]> {
  if (alerts.length === 0 || tenantIds.length === 0) return [];
  const oldest = new Date(Math.min(...alerts.map((a) => Date.parse(a.occurred_at))));
  return manager.query(
    `SELECT tenant_id, id, monitor_id, severities, starts_at, ends_at FROM silences
     WHERE tenant_id = ANY($1::uuid[]) AND starts_at <= now() AND ends_at > $2`,
    [tenantIds, oldest],
  );
}

/**
 * The silence that covers an alert: one of its tenant's, for its monitor or every monitor,
 * for its severity or every severity, active when the alert happened (not when it is fanned
 * out: a dispatcher catching up on a backlog silences exactly what it would have live).
 */
export function silenceFor(alert: AlertEvent, silences: readonly ActiveSilence[]): ActiveSilence | undefined {
  const at = Date.parse(alert.occurred_at);
  return silences.find(
    (s) =>
      s.tenant_id === alert.tenant_id &&
      (s.monitor_id === null || s.monitor_id === alert.monitor_id) &&
      (s.severities === null || s.severities.includes(alert.severity)) &&
      s.starts_at.getTime() <= at &&
      at < s.ends_at.getTime(),
  );
}
