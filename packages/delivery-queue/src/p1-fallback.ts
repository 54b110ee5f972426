import { DELIVERY_EVENTS, type DeliveryEventType, type FallbackQueuedData } from '@tocsin/contracts';
import type { DeliveryEntity, EndpointEntity } from '@tocsin/database';
import type { NewEvent } from '@tocsin/event-store';
import { deliveryId } from './delivery-id';
import type { NewDelivery } from './enqueue';

/** What of a delivery its fallback is made from. */
export type FallbackSource = Pick<
  DeliveryEntity,
  'id' | 'tenant_id' | 'alert_event_id' | 'event_type' | 'dedup_key' | 'sequence' | 'body' | 'traceparent' | 'fallback_of'
>;

export interface Fallback {
  /** Appended to the failed delivery's stream: where its alert went instead. */
  readonly event: NewEvent;
  readonly delivery: NewDelivery;
}

/**
 * The delivery that takes a P1 its endpoint cannot bring (it dead-lettered, or the endpoint
 * is paused, disabled or its secret unreadable) to the endpoint's fallback, or null when none
 * applies: not a P1 (its resolution included: it closes what the fallback opened), the
 * endpoint names no fallback, or this delivery is itself a fallback (a fallback never hands
 * on, so no chain and no loop). A test message is the endpoint's own. The fallback's id is
 * the one any delivery of that alert to that endpoint has, so an endpoint that is both a
 * fallback and subscribed to the alert is paged once.
 */
export function p1Fallback(
  delivery: FallbackSource,
  endpoint: Pick<EndpointEntity, 'id' | 'fallback_endpoint_id'>,
  reason: string,
): Fallback | null {
  const to = endpoint.fallback_endpoint_id;
  const severity = (delivery.body as { severity?: unknown }).severity;
  if (!to || to === endpoint.id || delivery.fallback_of !== null || severity !== 'P1' || delivery.event_type === 'webhook.test') return null;
  const id = deliveryId(delivery.alert_event_id, to);
  const data: FallbackQueuedData = { fallback_delivery_id: id, fallback_endpoint_id: to, reason };
  return {
    event: { ...DELIVERY_EVENTS.FallbackQueued, data },
    delivery: {
      id,
      tenantId: delivery.tenant_id,
      endpointId: to,
      alertEventId: delivery.alert_event_id,
      event: delivery.event_type as DeliveryEventType,
      dedupKey: delivery.dedup_key,
      sequence: delivery.sequence,
      body: delivery.body,
      traceparent: delivery.traceparent,
      fallbackOf: delivery.id,
    },
  };
}

/** A delivery not yet written, as p1Fallback reads one. */
export function asFallbackSource(d: NewDelivery): FallbackSource {
  return {
    id: d.id,
    tenant_id: d.tenantId,
    alert_event_id: d.alertEventId,
    event_type: d.event,
    dedup_key: d.dedupKey,
    sequence: d.sequence,
    body: d.body as Record<string, unknown>,
    traceparent: d.traceparent ?? null,
    fallback_of: d.fallbackOf ?? null,
  };
}
