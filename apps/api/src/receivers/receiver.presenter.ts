import type { ReceiverCallEntity, ReceiverEntity } from '@tocsin/database';

export const INCOMING_PATH = '/v1/hooks/incoming';

export function presentReceiver(r: ReceiverEntity) {
  return {
    id: r.id,
    tenant_id: r.tenant_id,
    name: r.name,
    monitor_id: r.monitor_id,
    status_field: r.status_field,
    service_field: r.service_field,
    message_field: r.message_field,
    mapping: r.mapping,
    signature_header: r.signature_header,
    signed: r.secret !== null,
    token_prefix: r.token_prefix,
    created_at: r.created_at,
    updated_at: r.updated_at,
  };
}

export function presentCall(c: ReceiverCallEntity) {
  return {
    received_at: c.received_at,
    source_ip: c.source_ip,
    payload: c.payload === null ? null : (JSON.parse(c.payload) as unknown),
    result: c.result,
    reason: c.reason,
    monitor_id: c.monitor_id,
    raw_status: c.raw_status,
    mapped_status: c.mapped_status,
    previous_status: c.previous_status,
    new_status: c.new_status,
    event_id: c.event_id,
  };
}
