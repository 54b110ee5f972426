import type { DeliveryEntity, EndpointEntity } from '@tocsin/database';

export function presentEndpoint(e: EndpointEntity) {
  return {
    id: e.id,
    tenant_id: e.tenant_id,
    name: e.name,
    url: e.url,
    events: e.events,
    severities: e.severities,
    include_recovery: e.include_recovery,
    method: e.method,
    headers: e.headers,
    retry_schedule_seconds: e.retry_schedule_seconds,
    timeout_ms: e.timeout_ms,
    status: e.status,
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
    created_at: d.created_at,
    updated_at: d.updated_at,
  };
}
