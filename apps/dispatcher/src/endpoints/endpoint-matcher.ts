import type { EndpointEntity } from '@tocsin/database';
import type { AlertEvent } from '@tocsin/contracts';

type Routing = Pick<EndpointEntity, 'tenant_id' | 'events' | 'severities' | 'include_recovery' | 'status'>;

/** DESIGN §5 fan-out rule: tenant, event type (or `*`), severity, recovery opt-in, not disabled. */
export function endpointMatches(endpoint: Routing, alert: AlertEvent): boolean {
  if (endpoint.tenant_id !== alert.tenant_id) return false;
  if (endpoint.status === 'disabled') return false;
  if (!endpoint.events.includes('*') && !endpoint.events.includes(alert.event)) return false;
  if (!endpoint.severities.includes(alert.severity)) return false;
  if (alert.event === 'downtime_resolved' && !endpoint.include_recovery) return false;
  return true;
}
