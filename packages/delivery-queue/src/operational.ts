import type { EntityManager } from 'typeorm';
import { OPERATIONAL_EVENT_TYPES, type OperationalEventType } from '@tocsin/contracts';
import { deliveryId, noticeId } from './delivery-id';
import { enqueueDeliveries, type NewDelivery } from './enqueue';

/** A transition of the tenant's own delivery that its ops endpoints hear about. */
export interface OperationalNotice {
  readonly type: OperationalEventType;
  readonly tenantId: string;
  /** The endpoint the notice is about: it never receives notices about itself. */
  readonly endpointId: string;
  /** The event that caused it, which names it: a retried write makes no second notice. */
  readonly sourceStream: string;
  readonly sourceVersion: number;
  readonly occurredAt: Date;
  /** What the notice says beside the endpoint: `reason`, the delivery that dead-lettered. */
  readonly details: Record<string, unknown>;
}

/** Events of one subject endpoint go out in order; a delivery's dead-letter is its own. */
function orderKey(notice: OperationalNotice): { dedupKey: string; sequence: number } {
  return notice.type === 'delivery.dead_lettered'
    ? { dedupKey: `ops-${notice.sourceStream}`, sequence: notice.sourceVersion }
    : { dedupKey: `ops-endpoint-${notice.endpointId}`, sequence: notice.sourceVersion };
}

/**
 * Queues each notice to every webhook endpoint of its tenant that lists its type in
 * `events`, as an ordinary delivery (signed, retried, replayable), in the caller's
 * transaction. Costs nothing when there is no notice; otherwise two reads and the
 * enqueue. A notice about an ops delivery itself is not made (see isOperational), so a
 * failing ops endpoint cannot feed on its own failures.
 */
export async function enqueueNotices(manager: EntityManager, notices: readonly OperationalNotice[]): Promise<number> {
  if (notices.length === 0) return 0;
  const listeners: Array<{ id: string; tenant_id: string; events: string[] }> = await manager.query(
    `SELECT id, tenant_id, events FROM endpoints
     WHERE tenant_id = ANY($1::uuid[]) AND type = 'webhook' AND status <> 'disabled' AND events ?| $2::text[]`,
    [[...new Set(notices.map((n) => n.tenantId))], [...new Set(notices.map((n) => n.type))]],
  );
  if (listeners.length === 0) return 0;
  const subjects: Array<{ id: string; name: string; type: string; url: string; status: string }> = await manager.query(
    'SELECT id, name, type, url, status FROM endpoints WHERE id = ANY($1::uuid[])',
    [[...new Set(notices.map((n) => n.endpointId))]],
  );
  const subjectOf = new Map(subjects.map((s) => [s.id, s]));
  const deliveries: NewDelivery[] = [];
  for (const notice of notices) {
    const eventId = noticeId(notice.sourceStream, notice.sourceVersion);
    const subject = subjectOf.get(notice.endpointId);
    const body = {
      event: notice.type,
      event_id: eventId,
      tenant_id: notice.tenantId,
      occurred_at: notice.occurredAt.toISOString(),
      endpoint: subject ? { id: subject.id, name: subject.name, type: subject.type, url: subject.url, status: subject.status } : { id: notice.endpointId },
      ...notice.details,
    };
    for (const listener of listeners) {
      if (listener.tenant_id !== notice.tenantId || listener.id === notice.endpointId || !listener.events.includes(notice.type)) continue;
      deliveries.push({
        id: deliveryId(eventId, listener.id),
        tenantId: notice.tenantId,
        endpointId: listener.id,
        alertEventId: eventId,
        event: notice.type,
        ...orderKey(notice),
        body,
      });
    }
  }
  return (await enqueueDeliveries(manager, deliveries)).length;
}

/** Whether a delivery carries an operational notice (whose own failure makes no notice). */
export function isOperational(eventType: string): boolean {
  return (OPERATIONAL_EVENT_TYPES as readonly string[]).includes(eventType);
}
