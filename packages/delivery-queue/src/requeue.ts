import type { EntityManager } from 'typeorm';
import { DELIVERY_EVENTS, deliveryStreamId, type RedeliveryRequestedData } from '@tocsin/contracts';
import { deliveryMetadata } from './enqueue';
import { appendToStreams } from './stream-writes';

/** Statuses a delivery can be sent again from: it is finished, one way or another. */
export const REDELIVERABLE_STATUSES = ['delivered', 'dead_lettered', 'failed', 'skipped'] as const;
/** Statuses a replay picks up: the ones that never reached the receiver. */
export const REPLAYABLE_STATUSES = ['dead_lettered', 'failed', 'skipped'] as const;

/**
 * Puts finished deliveries back in the queue under their own ids (so receivers see the
 * same webhook-id), due now, with the retry schedule counting from the next attempt.
 * Deliveries that are not finished are left alone. Returns the ids requeued.
 */
export async function requeueDeliveries(
  manager: EntityManager,
  tenantId: string,
  ids: readonly string[],
  reason: RedeliveryRequestedData['reason'],
  statuses: readonly string[] = REDELIVERABLE_STATUSES,
): Promise<string[]> {
  if (ids.length === 0) return [];
  const [rows]: [Array<{ id: string; stream_version: number; previous_status: string; attempts: number; dedup_key: string; alert_event_id: string; traceparent: string | null }>, number] =
    await manager.query(
      `UPDATE deliveries d
       SET status = 'pending', next_attempt_at = clock_timestamp(), lease_until = NULL, schedule_offset = d.attempts, lease_expiries = 0,
           stream_version = d.stream_version + 1, updated_at = clock_timestamp()
       FROM (SELECT id, status AS previous_status FROM deliveries
             WHERE tenant_id = $1 AND id = ANY($2::uuid[]) AND status = ANY($3::text[]) FOR UPDATE) prev
       WHERE d.id = prev.id
       RETURNING d.id, d.stream_version, prev.previous_status, d.attempts, d.dedup_key, d.alert_event_id, d.traceparent`,
      [tenantId, [...ids], [...statuses]],
    );
  await appendToStreams(
    manager,
    rows.map((r) => {
      const data: RedeliveryRequestedData = { reason, previous_status: r.previous_status, attempts_before: r.attempts };
      return {
        streamId: deliveryStreamId(r.id),
        afterVersion: r.stream_version - 1,
        events: [{ ...DELIVERY_EVENTS.RedeliveryRequested, data }],
        metadata: deliveryMetadata(tenantId, r.alert_event_id, r.dedup_key, r.traceparent),
      };
    }),
  );
  return rows.map((r) => r.id);
}

