import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import {
  DELIVERY_EVENTS,
  deliveryStreamId,
  type AlertEvent,
  type DeliveryCreatedData,
} from '@tocsin/contracts';
import type { DeliveryEntity, DeliveryStatus, EndpointEntity } from '@tocsin/database';
import { EventStore, type NewEvent } from '@tocsin/event-store';
import { deliveryId } from './delivery-id';
import type { StoredBody } from './webhook-body';

export interface DeliveryUpdate {
  readonly status: DeliveryStatus;
  readonly nextAttemptAt?: Date | null;
  readonly lastHttpStatus?: number | null;
  readonly lastError?: string | null;
}

export class DeliveryConflictError extends Error {
  override readonly name = 'DeliveryConflictError';
}

/** The deliveries work queue and its event streams, always written together. */
@Injectable()
export class DeliveryRepository {
  constructor(private readonly store: EventStore) {}

  /** Creates the delivery unless it exists already (same alert, same endpoint). */
  async create(
    manager: EntityManager,
    alert: AlertEvent,
    endpoint: EndpointEntity,
    body: StoredBody,
  ): Promise<DeliveryEntity['id'] | null> {
    const id = deliveryId(alert.event_id, endpoint.id);
    const data: DeliveryCreatedData = {
      delivery_id: id,
      tenant_id: alert.tenant_id,
      endpoint_id: endpoint.id,
      alert_event_id: alert.event_id,
      event: alert.event,
      dedup_key: alert.dedup_key,
      sequence: alert.sequence,
    };
    const paused = endpoint.status === 'paused';
    const events: NewEvent[] = [{ ...DELIVERY_EVENTS.DeliveryCreated, data }];
    if (paused) events.push({ ...DELIVERY_EVENTS.Skipped, data: { reason: 'endpoint paused' } });
    const appended = await this.store.append(manager, deliveryStreamId(id), 0, events, {
      tenant_id: alert.tenant_id,
      causation_id: alert.event_id,
      correlation_id: alert.dedup_key,
    });
    if (!appended.ok) return null;
    await manager.query(
      `INSERT INTO deliveries (id, tenant_id, endpoint_id, alert_event_id, event_type, dedup_key, sequence, body, status,
                               next_attempt_at, stream_version)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb, $9, $10, $11)`,
      [
        id, alert.tenant_id, endpoint.id, alert.event_id, alert.event, alert.dedup_key, alert.sequence,
        JSON.stringify(body), paused ? 'skipped' : 'pending', paused ? null : new Date(), appended.version,
      ],
    );
    return id;
  }

  /**
   * Claims due deliveries: at most `perEndpoint` in flight per endpoint, a resolved never
   * before its started on the same endpoint, tenants taking turns so one tenant's backlog
   * cannot crowd out the others. Expired leases (a crashed worker) count as due.
   */
  async claimDue(manager: EntityManager, limit: number, perEndpoint: number, leaseSeconds: number): Promise<DeliveryEntity[]> {
    const result: [DeliveryEntity[], number] = await manager.query(
      `WITH in_flight AS (
         SELECT endpoint_id, count(*) AS n FROM deliveries
         WHERE status = 'in_flight' AND lease_until >= now() GROUP BY endpoint_id
       ), due AS (
         SELECT d.id, d.tenant_id, d.endpoint_id, d.next_attempt_at,
                row_number() OVER (PARTITION BY d.endpoint_id ORDER BY d.next_attempt_at, d.sequence) AS endpoint_turn
         FROM deliveries d
         WHERE ((d.status IN ('pending', 'retrying') AND d.next_attempt_at <= now())
                OR (d.status = 'in_flight' AND d.lease_until < now()))
           AND NOT EXISTS (SELECT 1 FROM deliveries e WHERE e.endpoint_id = d.endpoint_id
                           AND e.dedup_key = d.dedup_key AND e.sequence < d.sequence
                           AND e.status IN ('pending', 'retrying', 'in_flight'))
       ), allowed AS (
         SELECT due.* FROM due LEFT JOIN in_flight f ON f.endpoint_id = due.endpoint_id
         WHERE due.endpoint_turn <= $2 - coalesce(f.n, 0)
       ), ranked AS (
         SELECT id, next_attempt_at,
                row_number() OVER (PARTITION BY tenant_id ORDER BY endpoint_turn, next_attempt_at) AS tenant_turn
         FROM allowed
       ), picked AS (
         SELECT d.id FROM deliveries d JOIN ranked r ON r.id = d.id
         ORDER BY r.tenant_turn, r.next_attempt_at
         LIMIT $1
         FOR UPDATE OF d SKIP LOCKED
       )
       UPDATE deliveries d
       SET status = 'in_flight', attempts = d.attempts + 1,
           lease_until = now() + make_interval(secs => $3), updated_at = clock_timestamp()
       FROM picked WHERE d.id = picked.id
       RETURNING d.*`,
      [limit, perEndpoint, leaseSeconds],
    );
    return result[0];
  }

  /** Appends the delivery's events and moves its row; a stale version means another worker owns it. */
  async record(manager: EntityManager, delivery: DeliveryEntity, events: readonly NewEvent[], update?: DeliveryUpdate): Promise<number> {
    const appended = await this.store.append(manager, deliveryStreamId(delivery.id), delivery.stream_version, events, {
      tenant_id: delivery.tenant_id,
      correlation_id: delivery.dedup_key,
      causation_id: delivery.alert_event_id,
    });
    if (!appended.ok) throw new DeliveryConflictError(`delivery ${delivery.id} moved to version ${appended.actualVersion}`);
    if (update) {
      await manager.query(
        `UPDATE deliveries SET status = $2, next_attempt_at = $3, last_http_status = $4, last_error = $5,
                lease_until = NULL, stream_version = $6, updated_at = clock_timestamp() WHERE id = $1`,
        [delivery.id, update.status, update.nextAttemptAt ?? null, update.lastHttpStatus ?? null, update.lastError ?? null, appended.version],
      );
    } else {
      await manager.query('UPDATE deliveries SET stream_version = $2 WHERE id = $1', [delivery.id, appended.version]);
    }
    return appended.version;
  }
}
