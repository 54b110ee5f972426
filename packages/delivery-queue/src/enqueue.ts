import type { EntityManager } from 'typeorm';
import { DELIVERY_EVENTS, deliveryStreamId, traceIdOf, type DeliveryCreatedData, type DeliveryEventType } from '@tocsin/contracts';
import type { NewEvent } from '@tocsin/event-store';
import { DistinctValues } from './distinct-values';
import { appendToStreams } from './stream-writes';

export interface NewDelivery {
  readonly id: string;
  readonly tenantId: string;
  readonly endpointId: string;
  readonly alertEventId: string;
  readonly event: DeliveryEventType;
  readonly dedupKey: string;
  readonly sequence: number;
  /** The webhook body minus delivered_at, which each attempt stamps. */
  readonly body: object;
  /** Set when the endpoint is paused: the delivery is recorded as skipped, and redeliverable. */
  readonly skipReason?: string;
  /** W3C traceparent of the span that made the delivery: its attempts are that span's children. */
  readonly traceparent?: string | null;
  /** A P1 fallback's delivery: the delivery it stands in for. */
  readonly fallbackOf?: string;
  /** A skipped P1's hand-over to its endpoint's fallback (see p1Fallback), after its Skipped. */
  readonly handedOver?: NewEvent;
}

/** A new delivery's stream: created, then skipped (and handed over) when its endpoint is paused. */
function creationEvents(d: NewDelivery): NewEvent[] {
  const data: DeliveryCreatedData = {
    delivery_id: d.id,
    tenant_id: d.tenantId,
    endpoint_id: d.endpointId,
    alert_event_id: d.alertEventId,
    event: d.event,
    dedup_key: d.dedupKey,
    sequence: d.sequence,
    ...(d.fallbackOf === undefined ? {} : { fallback_of: d.fallbackOf }),
  };
  const events: NewEvent[] = [{ ...DELIVERY_EVENTS.DeliveryCreated, data }];
  if (d.skipReason !== undefined) events.push({ ...DELIVERY_EVENTS.Skipped, data: { reason: d.skipReason } });
  if (d.handedOver !== undefined) events.push(d.handedOver);
  return events;
}

/**
 * Creates deliveries and their streams in two statements, whatever their number. A
 * delivery that exists already (the same alert reaching the same endpoint again) is left
 * alone. Returns the ids created.
 */
export async function enqueueDeliveries(manager: EntityManager, deliveries: readonly NewDelivery[]): Promise<string[]> {
  if (deliveries.length === 0) return [];
  // One alert's body goes to each of its endpoints: it is sent once, and each row points
  // at it by index, instead of one copy of the JSON per delivery.
  const bodies = new DistinctValues<object>();
  const streams = deliveries.map(creationEvents);
  const rows: Array<{ id: string }> = await manager.query(
    `INSERT INTO deliveries (id, tenant_id, endpoint_id, alert_event_id, event_type, dedup_key, sequence, body, status,
                             next_attempt_at, stream_version, traceparent, fallback_of)
     SELECT id, tenant_id, endpoint_id, alert_event_id, event_type, dedup_key, sequence, $2::jsonb -> b,
            CASE WHEN skipped THEN 'skipped' ELSE 'pending' END,
            CASE WHEN skipped THEN NULL ELSE clock_timestamp() END,
            v, traceparent, fallback_of
     FROM jsonb_to_recordset($1::jsonb)
          AS t(id uuid, tenant_id uuid, endpoint_id uuid, alert_event_id uuid, event_type text, dedup_key text, sequence int,
               b int, skipped bool, v int, traceparent text, fallback_of uuid)
     ON CONFLICT (id) DO NOTHING
     RETURNING id`,
    [
      JSON.stringify(
        deliveries.map((d, i) => ({
          id: d.id,
          tenant_id: d.tenantId,
          endpoint_id: d.endpointId,
          alert_event_id: d.alertEventId,
          event_type: d.event,
          dedup_key: d.dedupKey,
          sequence: d.sequence,
          b: bodies.indexOf(d.body),
          skipped: d.skipReason !== undefined,
          v: streams[i]!.length,
          traceparent: d.traceparent ?? null,
          fallback_of: d.fallbackOf ?? null,
        })),
      ),
      JSON.stringify(bodies.values),
    ],
  );
  const created = new Set(rows.map((r) => r.id));
  await appendToStreams(
    manager,
    deliveries.flatMap((d, i) =>
      created.has(d.id)
        ? [{ streamId: deliveryStreamId(d.id), afterVersion: 0, events: streams[i]!, metadata: deliveryMetadata(d.tenantId, d.alertEventId, d.dedupKey, d.traceparent) }]
        : [],
    ),
  );
  return deliveries.filter((d) => created.has(d.id)).map((d) => d.id);
}

/**
 * A delivery's events: caused by its alert, correlated by the trace that made it (the
 * probe result's, through the router), or by the incident's dedup key when it has none.
 */
export function deliveryMetadata(tenantId: string, alertEventId: string, dedupKey: string, traceparent: string | null | undefined) {
  return {
    tenant_id: tenantId,
    causation_id: alertEventId,
    correlation_id: traceIdOf(traceparent) ?? dedupKey,
  };
}
