import type { DeliveryEntity, EndpointEntity } from '@tocsin/database';
import { endpointHeaders, maskedHeaders, signingSecrets } from '@tocsin/delivery-queue';
import { SecretUnreadableError, type SecretBox } from '@tocsin/secrets';
import type { EndpointHealth } from './endpoint.repository';

/**
 * `secret_unreadable` when the endpoint's signing secrets or headers cannot be opened (their
 * key was dropped before a re-seal, or the row was tampered with): its attempts fail until
 * the secret is rotated or the headers set again. Null otherwise.
 */
export function endpointSecretError(box: SecretBox, e: EndpointEntity): 'secret_unreadable' | null {
  try {
    // Every previous secret counts, expired or not: the row holds it, and a re-seal must open it.
    signingSecrets(box, e, new Date(0));
    endpointHeaders(box, e);
    return null;
  } catch (err) {
    if (err instanceof SecretUnreadableError) return 'secret_unreadable';
    throw err;
  }
}

/**
 * An endpoint as every answer shows it: never its secret nor a header's value (each header
 * named, its value masked), always its status, stats and breaker.
 */
export function presentEndpoint(e: EndpointEntity, health: EndpointHealth, secretError: 'secret_unreadable' | null) {
  return {
    id: e.id,
    tenant_id: e.tenant_id,
    name: e.name,
    type: e.type,
    url: e.url,
    events: e.events,
    severities: e.severities,
    include_recovery: e.include_recovery,
    method: e.method,
    headers: maskedHeaders([...new Set([...Object.keys(e.headers), ...e.header_names])].sort()),
    secret_error: secretError,
    retry_schedule_seconds: e.retry_schedule_seconds,
    timeout_ms: e.timeout_ms,
    status: e.status,
    fallback_endpoint_id: e.fallback_endpoint_id,
    stats: health.stats,
    breaker: health.breaker,
    created_at: e.created_at,
    updated_at: e.updated_at,
  };
}

export function presentDelivery(d: DeliveryEntity) {
  return {
    id: d.id,
    tenant_id: d.tenant_id,
    endpoint_id: d.endpoint_id,
    event: d.event_type,
    event_id: d.alert_event_id,
    dedup_key: d.dedup_key,
    sequence: d.sequence,
    status: d.status,
    attempt_count: d.attempts,
    next_attempt_at: d.next_attempt_at,
    last_http_status: d.last_http_status,
    last_error: d.last_error,
    fallback_of: d.fallback_of,
    created_at: d.created_at,
    updated_at: d.updated_at,
  };
}
