import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { DELIVERY_EVENTS, deliveryStreamId } from '@tocsin/contracts';
import type { DeliveryEntity, DeliveryStatus, EndpointEntity } from '@tocsin/database';
import {
  appendToStreams,
  deliveryMetadata,
  enqueueDeliveries,
  enqueueNotices,
  isOperational,
  p1Fallback,
  type FallbackSource,
  type NewDelivery,
  type OperationalNotice,
  type StreamAppend,
} from '@tocsin/delivery-queue';
import type { NewEvent } from '@tocsin/event-store';

/** A delivery's next row state, written together with the events that lead to it. */
export interface DeliveryUpdate {
  readonly status: DeliveryStatus;
  readonly nextAttemptAt?: Date | null;
  readonly lastHttpStatus?: number | null;
  readonly lastError?: string | null;
}

export interface DeliveryRecord {
  readonly delivery: ClaimedDelivery;
  readonly events: readonly NewEvent[];
  readonly update: DeliveryUpdate;
  /** A P1 handed to the endpoint's fallback: created with the outcome (its FallbackQueued is in events). */
  readonly fallback?: NewDelivery | undefined;
}

/** The columns of a delivery the worker needs to attempt it and record the outcome. */
export type ClaimedDelivery = Pick<
  DeliveryEntity,
  | 'id'
  | 'tenant_id'
  | 'endpoint_id'
  | 'alert_event_id'
  | 'event_type'
  | 'dedup_key'
  | 'body'
  | 'attempts'
  | 'schedule_offset'
  | 'stream_version'
  | 'traceparent'
  | 'sequence'
  | 'fallback_of'
>;

/** What a claim writes for one delivery: AttemptStarted, or why it will not be attempted (and, for a P1, its hand-over). */
export interface ClaimRecord {
  readonly delivery: ClaimedDelivery;
  readonly events: readonly NewEvent[];
  readonly final?: DeliveryUpdate;
  readonly fallback?: NewDelivery | undefined;
}

/** Slack over the endpoint's own timeout before a lease is taken for a dead worker's. */
export const LEASE_MARGIN_SECONDS = 5;
/** Leases a delivery may outlive before it is dead-lettered rather than tried again. */
export const MAX_LEASE_EXPIRIES = 3;
const REAP_BACKOFF_SECONDS = 5;
export const LEASE_EXPIRED_REASON = 'lease_expired_repeatedly: every attempt outlived its lease without an outcome being recorded';

/**
 * The deliveries work queue and its event streams, always written together, in as few
 * statements as a batch allows.
 */
@Injectable()
export class DeliveryRepository {
  /**
   * Claims due deliveries, touching only open rows through partial indexes, so the size of
   * the delivered history never matters:
   * - a skip scan finds the endpoints with queued work (one index probe per endpoint);
   * - each takes at most its free slots (`perEndpoint` minus what it has in flight; one
   *   half-open probe when its breaker's cooldown is over; none while it is open), and at
   *   most its share of `limit` (limit / busy endpoints), so the query reads about as
   *   many rows as it claims, not every endpoint's full slots; the next claim (each flush
   *   triggers one) takes what a short endpoint left over;
   * - a `downtime_resolved` never goes before its `downtime_started` on the same endpoint;
   * - tenants take turns: every tenant's first pick comes before any tenant's second;
   * - no tenant gets more than `perTenant` in flight in this worker (`inFlight` holds what
   *   each tenant has in flight here), so one tenant's slow endpoints never hold every slot.
   * Claiming bumps the stream version: the caller appends exactly one event per row.
   */
  async claimDue(
    manager: EntityManager,
    limit: number,
    perEndpoint: number,
    perTenant: number,
    inFlight: ReadonlyMap<string, number> = new Map(),
  ): Promise<ClaimedDelivery[]> {
    const result: [ClaimedDelivery[], number] = await manager.query(
      `WITH RECURSIVE busy AS (
         (SELECT endpoint_id FROM deliveries WHERE status IN ('pending', 'retrying') ORDER BY endpoint_id LIMIT 1)
         UNION ALL
         SELECT (SELECT d.endpoint_id FROM deliveries d
                 WHERE d.status IN ('pending', 'retrying') AND d.endpoint_id > busy.endpoint_id
                 ORDER BY d.endpoint_id LIMIT 1)
         FROM busy WHERE busy.endpoint_id IS NOT NULL
       ), slots AS (
         SELECT b.endpoint_id,
                CASE WHEN s.breaker_state = 'open' AND s.breaker_retry_at > now() THEN 0
                     WHEN s.breaker_state = 'open' THEN 1
                     ELSE $2::int END
                - (SELECT count(*) FROM deliveries f
                   WHERE f.status = 'in_flight' AND f.endpoint_id = b.endpoint_id AND f.lease_until >= now())::int AS free,
                ceil($1::float8 / count(*) OVER ())::int AS share
         FROM busy b LEFT JOIN endpoint_stats s ON s.endpoint_id = b.endpoint_id
         WHERE b.endpoint_id IS NOT NULL
       ), due AS (
         SELECT c.* FROM slots, LATERAL (
           SELECT d.id, d.tenant_id, d.endpoint_id, d.next_attempt_at, d.sequence
           FROM deliveries d
           WHERE d.endpoint_id = slots.endpoint_id AND d.status IN ('pending', 'retrying') AND d.next_attempt_at <= now()
             AND NOT EXISTS (SELECT 1 FROM deliveries o
                             WHERE o.endpoint_id = d.endpoint_id AND o.dedup_key = d.dedup_key AND o.sequence < d.sequence
                               AND o.status IN ('pending', 'retrying', 'in_flight'))
           ORDER BY d.next_attempt_at, d.sequence
           LIMIT GREATEST(LEAST(slots.free, slots.share), 0)
         ) c
       ), turns AS (
         SELECT id, tenant_id, next_attempt_at,
                row_number() OVER (PARTITION BY endpoint_id ORDER BY next_attempt_at, sequence) AS endpoint_turn
         FROM due
       ), ranked AS (
         SELECT id, next_attempt_at, tenant_turn FROM (
           SELECT t.id, t.next_attempt_at, coalesce(l.n, 0) AS load,
                  row_number() OVER (PARTITION BY t.tenant_id ORDER BY t.endpoint_turn, t.next_attempt_at) AS tenant_turn
           FROM turns t LEFT JOIN unnest($5::uuid[], $6::int[]) AS l(tenant_id, n) ON l.tenant_id = t.tenant_id
         ) r
         WHERE r.tenant_turn <= $4::int - r.load
         ORDER BY tenant_turn, next_attempt_at
         LIMIT $1
       ), picked AS (
         -- By primary key alone: joining, or a status test the queue's partial index can
         -- answer, tempts the planner to read every queued row (a BitmapAnd with that index).
         SELECT d.id FROM deliveries d
         WHERE d.id = ANY (ARRAY(SELECT id FROM ranked)) AND (d.status || '') IN ('pending', 'retrying')
         FOR UPDATE OF d SKIP LOCKED
       )
       UPDATE deliveries d
       SET status = 'in_flight', attempts = d.attempts + 1, stream_version = d.stream_version + 1,
           lease_until = now() + make_interval(
             secs => (coalesce((SELECT e.timeout_ms FROM endpoints e WHERE e.id = d.endpoint_id), 30000) / 1000.0 + $3)::float8),
           updated_at = clock_timestamp()
       FROM picked
       WHERE d.id = picked.id
       RETURNING d.id, d.tenant_id, d.endpoint_id, d.alert_event_id, d.event_type, d.dedup_key, d.body, d.attempts,
                 d.schedule_offset, d.stream_version, d.traceparent, d.sequence, d.fallback_of`,
      [limit, perEndpoint, LEASE_MARGIN_SECONDS, perTenant, [...inFlight.keys()], [...inFlight.values()]],
    );
    return result[0];
  }

  endpoints(manager: EntityManager, ids: readonly string[]): Promise<EndpointEntity[]> {
    return manager.query('SELECT * FROM endpoints WHERE id = ANY($1::uuid[])', [[...new Set(ids)]]);
  }

  /**
   * Writes each delivery's events and its new row state, in three statements for the
   * whole batch. The row update is guarded by the version the caller read, so a
   * delivery another worker took over (its lease ran out) is left alone; returns the ids
   * written.
   */
  async record(manager: EntityManager, records: readonly DeliveryRecord[]): Promise<Set<string>> {
    if (records.length === 0) return new Set();
    // An UPDATE answers [rows, count] through TypeORM.
    const [rows]: [Array<{ id: string }>, number] = await manager.query(
      `UPDATE deliveries d
       SET status = u.status, next_attempt_at = u.next_attempt_at, last_http_status = u.last_http_status,
           last_error = u.last_error, lease_until = NULL, stream_version = u.expected + u.added,
           updated_at = clock_timestamp()
       FROM unnest($1::uuid[], $2::int[], $3::int[], $4::text[], $5::timestamptz[], $6::int[], $7::text[])
            AS u(id, expected, added, status, next_attempt_at, last_http_status, last_error)
       WHERE d.id = u.id AND d.stream_version = u.expected
       RETURNING d.id`,
      [
        records.map((r) => r.delivery.id),
        records.map((r) => r.delivery.stream_version),
        records.map((r) => r.events.length),
        records.map((r) => r.update.status),
        records.map((r) => r.update.nextAttemptAt ?? null),
        records.map((r) => r.update.lastHttpStatus ?? null),
        records.map((r) => r.update.lastError ?? null),
      ],
    );
    const written = new Set(rows.map((r) => r.id));
    const kept = records.filter((r) => written.has(r.delivery.id));
    await appendToStreams(
      manager,
      kept.map((r) => deliveryAppend(r.delivery, r.delivery.stream_version, r.events)),
    );
    await enqueueDeliveries(manager, kept.flatMap((r) => (r.fallback ? [r.fallback] : [])));
    await enqueueNotices(
      manager,
      kept.filter((r) => r.update.status === 'dead_lettered').flatMap((r) =>
        deadLetterNotice(r.delivery, r.delivery.stream_version + r.events.length, r.update.lastError ?? null, r.fallback?.id),
      ),
    );
    return written;
  }

  /**
   * Appends one event per freshly claimed delivery (its claim already bumped the version),
   * and moves the ones that will not be attempted to their final status.
   */
  async recordClaimed(manager: EntityManager, claimed: readonly ClaimRecord[]): Promise<void> {
    await appendToStreams(
      manager,
      claimed.map((c) => deliveryAppend(c.delivery, c.delivery.stream_version - 1, c.events)),
    );
    const finals = claimed.filter((c) => c.final);
    if (finals.length === 0) return;
    // The claim counted one event; a hand-over to the fallback adds its own.
    await manager.query(
      `UPDATE deliveries d SET status = u.status, last_error = u.last_error, lease_until = NULL, next_attempt_at = NULL,
              stream_version = d.stream_version + u.more, updated_at = clock_timestamp()
       FROM unnest($1::uuid[], $2::text[], $3::text[], $4::int[]) AS u(id, status, last_error, more)
       WHERE d.id = u.id`,
      [
        finals.map((c) => c.delivery.id),
        finals.map((c) => c.final!.status),
        finals.map((c) => c.final!.lastError ?? null),
        finals.map((c) => c.events.length - 1),
      ],
    );
    await enqueueDeliveries(manager, finals.flatMap((c) => (c.fallback ? [c.fallback] : [])));
  }

  /**
   * Deliveries whose lease ran out (their worker died mid-attempt) become due again. The
   * attempt they were on has no outcome event: nothing is recorded that did not happen.
   * A delivery whose lease keeps running out is not a dead worker but a delivery that
   * cannot be recorded: it waits longer each time (REAP_BACKOFF_SECONDS, then 4×, …) and
   * after MAX_LEASE_EXPIRIES is dead-lettered with the reason, so it never loops. A P1
   * dead-lettered so goes out by its endpoint's fallback, as any dead-lettered P1 does.
   */
  async reapExpiredLeases(manager: EntityManager): Promise<{ requeued: number; deadLettered: number }> {
    const [rows]: [
      Array<
        FallbackSource &
          Pick<ClaimedDelivery, 'endpoint_id' | 'attempts' | 'stream_version'> & { dead: boolean; fallback_endpoint_id: string | null }
      >,
      number,
    ] =
      await manager.query(
        `UPDATE deliveries d
         SET lease_expiries = d.lease_expiries + 1,
             status = CASE WHEN d.lease_expiries + 1 >= $1 THEN 'dead_lettered' ELSE 'retrying' END,
             next_attempt_at = CASE WHEN d.lease_expiries + 1 >= $1 THEN NULL
                                    ELSE now() + make_interval(secs => $2 * power(4, d.lease_expiries)) END,
             last_error = CASE WHEN d.lease_expiries + 1 >= $1 THEN $3 ELSE d.last_error END,
             stream_version = d.stream_version + CASE WHEN d.lease_expiries + 1 >= $1 THEN 1 ELSE 0 END,
             lease_until = NULL, updated_at = clock_timestamp()
         WHERE d.status = 'in_flight' AND d.lease_until < now()
         RETURNING d.id, d.tenant_id, d.endpoint_id, d.event_type, d.dedup_key, d.alert_event_id, d.traceparent, d.attempts,
                   d.stream_version, d.status = 'dead_lettered' AS dead, d.sequence, d.fallback_of,
                   CASE WHEN d.status = 'dead_lettered' THEN d.body END AS body,
                   (SELECT e.fallback_endpoint_id FROM endpoints e WHERE e.id = d.endpoint_id AND e.tenant_id = d.tenant_id) AS fallback_endpoint_id`,
        [MAX_LEASE_EXPIRIES, REAP_BACKOFF_SECONDS, LEASE_EXPIRED_REASON],
      );
    const dead = rows
      .filter((r) => r.dead)
      .map((r) => ({ row: r, fallback: p1Fallback(r, { id: r.endpoint_id, fallback_endpoint_id: r.fallback_endpoint_id }, LEASE_EXPIRED_REASON) }));
    const handed = dead.flatMap(({ row, fallback }) => (fallback ? [row.id] : []));
    // The update counted DeadLettered; a hand-over adds its FallbackQueued (rare: one more statement).
    if (handed.length > 0) await manager.query('UPDATE deliveries SET stream_version = stream_version + 1 WHERE id = ANY($1::uuid[])', [handed]);
    await appendToStreams(
      manager,
      dead.map(({ row, fallback }) =>
        deliveryAppend(row, row.stream_version - 1, [
          { ...DELIVERY_EVENTS.DeadLettered, data: { attempts: row.attempts, reason: LEASE_EXPIRED_REASON } },
          ...(fallback ? [fallback.event] : []),
        ]),
      ),
    );
    await enqueueDeliveries(manager, dead.flatMap(({ fallback }) => (fallback ? [fallback.delivery] : [])));
    await enqueueNotices(
      manager,
      dead.flatMap(({ row, fallback }) => deadLetterNotice(row, row.stream_version + (fallback ? 1 : 0), LEASE_EXPIRED_REASON, fallback?.delivery.id)),
    );
    return { requeued: rows.length - dead.length, deadLettered: dead.length };
  }

  /**
   * P1s held back by an open breaker on an endpoint that names a fallback: each becomes
   * `skipped` and goes out by the fallback now, instead of waiting out the cooldown for a
   * half-open probe (DESIGN §9 fallback). Open breakers are few; the scan starts from them.
   */
  async handOverHeldP1s(manager: EntityManager): Promise<number> {
    const reason = 'breaker open';
    const [rows]: [Array<FallbackSource & { endpoint_id: string; stream_version: number; fallback_endpoint_id: string }>, number] = await manager.query(
      `WITH held AS (
         SELECT d.id, e.fallback_endpoint_id
         FROM endpoint_stats s
         JOIN endpoints e ON e.id = s.endpoint_id AND e.tenant_id = s.tenant_id AND e.fallback_endpoint_id IS NOT NULL
         JOIN deliveries d ON d.endpoint_id = e.id AND d.tenant_id = e.tenant_id AND d.status IN ('pending', 'retrying')
         WHERE s.breaker_state = 'open' AND d.fallback_of IS NULL AND d.body ->> 'severity' = 'P1' AND d.event_type <> 'webhook.test'
         FOR UPDATE OF d SKIP LOCKED
       )
       UPDATE deliveries d
       SET status = 'skipped', last_error = $1, next_attempt_at = NULL, stream_version = d.stream_version + 2,
           updated_at = clock_timestamp()
       FROM held
       WHERE d.id = held.id
       RETURNING d.id, d.tenant_id, d.endpoint_id, d.alert_event_id, d.event_type, d.dedup_key, d.sequence, d.body,
                 d.traceparent, d.fallback_of, d.stream_version, held.fallback_endpoint_id`,
      [reason],
    );
    const handed = rows.flatMap((r) => {
      const fallback = p1Fallback(r, { id: r.endpoint_id, fallback_endpoint_id: r.fallback_endpoint_id }, reason);
      return fallback ? [{ row: r, fallback }] : [];
    });
    await appendToStreams(
      manager,
      handed.map(({ row, fallback }) => deliveryAppend(row, row.stream_version - 2, [{ ...DELIVERY_EVENTS.Skipped, data: { reason } }, fallback.event])),
    );
    await enqueueDeliveries(manager, handed.map(({ fallback }) => fallback.delivery));
    return handed.length;
  }

  /**
   * Finished deliveries older than the retention leave the table, a bounded batch at a
   * time; their streams stay in the event log, and endpoint stats live in their own
   * projection, so neither changes.
   */
  async purgeFinished(manager: EntityManager, olderThanDays: number, batch: number): Promise<number> {
    const result: [unknown[], number] = await manager.query(
      `DELETE FROM deliveries WHERE id IN (
         SELECT id FROM deliveries
         WHERE status IN ('delivered', 'dead_lettered', 'skipped', 'failed') AND updated_at < now() - make_interval(days => $1)
         LIMIT $2)`,
      [olderThanDays, batch],
    );
    return result[1];
  }
}

/**
 * The `delivery.dead_lettered` notice of a delivery that just dead-lettered, at the stream
 * version its DeadLettered reached; none for an operational delivery itself.
 */
function deadLetterNotice(
  d: Pick<ClaimedDelivery, 'id' | 'tenant_id' | 'endpoint_id' | 'event_type' | 'dedup_key' | 'attempts'>,
  version: number,
  reason: string | null,
  fallbackDeliveryId?: string,
): OperationalNotice[] {
  if (isOperational(d.event_type)) return [];
  return [
    {
      type: 'delivery.dead_lettered',
      tenantId: d.tenant_id,
      endpointId: d.endpoint_id,
      sourceStream: deliveryStreamId(d.id),
      sourceVersion: version,
      occurredAt: new Date(),
      details: {
        delivery: {
          id: d.id,
          event: d.event_type,
          dedup_key: d.dedup_key,
          attempts: d.attempts,
          reason,
          ...(fallbackDeliveryId ? { fallback_delivery_id: fallbackDeliveryId } : {}),
        },
      },
    },
  ];
}

function deliveryAppend(
  delivery: Pick<ClaimedDelivery, 'id' | 'tenant_id' | 'dedup_key' | 'alert_event_id' | 'traceparent'>,
  afterVersion: number,
  events: readonly NewEvent[],
): StreamAppend {
  return {
    streamId: deliveryStreamId(delivery.id),
    afterVersion,
    events,
    metadata: deliveryMetadata(delivery.tenant_id, delivery.alert_event_id, delivery.dedup_key, delivery.traceparent),
  };
}
