import type { ReceiverCallEntity, ReceiverEntity } from '@tocsin/database';
import { sealedIn, SecretUnreadableError, type SecretBox } from '@tocsin/secrets';

export const INCOMING_PATH = '/v1/hooks/incoming';

/** `secret_unreadable` when the receiver's secret cannot be opened: its calls answer 503 until it is created again. */
export function receiverSecretError(box: SecretBox, r: ReceiverEntity): 'secret_unreadable' | null {
  if (r.secret === null) return null;
  try {
    box.open(r.secret, sealedIn.receiverSecret(r.id));
    return null;
  } catch (err) {
    if (err instanceof SecretUnreadableError) return 'secret_unreadable';
    throw err;
  }
}

export function presentReceiver(r: ReceiverEntity, secretError: 'secret_unreadable' | null) {
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
    secret_error: secretError,
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
