import type { DataSource, EntityManager } from 'typeorm';

export interface OutboxMessage {
  readonly topic: string;
  readonly key: string;
  /** The record value as sent: JSON text, or a rejected record's raw bytes for the DLQ. */
  readonly value: string | Buffer;
  readonly headers: Record<string, string>;
}

export interface OutboxRow extends OutboxMessage {
  readonly id: number;
}

/** One statement for the whole batch; rows keep the order given (ids ascend with it). */
export async function enqueueOutbox(manager: EntityManager, messages: readonly OutboxMessage[]): Promise<void> {
  if (messages.length === 0) return;
  await manager.query(
    `INSERT INTO outbox (topic, key, value, value_raw, headers)
     SELECT topic, key, value, value_raw, headers
       FROM unnest($1::text[], $2::text[], $3::text[], $4::bytea[], $5::jsonb[]) WITH ORDINALITY
       AS m(topic, key, value, value_raw, headers, n) ORDER BY n`,
    [
      messages.map((m) => m.topic),
      messages.map((m) => m.key),
      messages.map((m) => (typeof m.value === 'string' ? m.value : '')),
      messages.map((m) => (typeof m.value === 'string' ? null : m.value)),
      messages.map((m) => JSON.stringify(m.headers)),
    ],
  );
}

/**
 * Deletes published rows older than the retention, a bounded chunk per call so a large
 * backlog never holds a long lock; returns how many went. Unpublished rows are never touched.
 */
export async function purgePublishedOutbox(dataSource: DataSource, retentionSeconds: number, limit = 10_000): Promise<number> {
  const rows: unknown[] = await dataSource.query(
    `DELETE FROM outbox WHERE id IN (
       SELECT id FROM outbox WHERE published_at IS NOT NULL AND published_at < clock_timestamp() - make_interval(secs => $1)
       ORDER BY published_at LIMIT $2)
     RETURNING id`,
    [retentionSeconds, limit],
  );
  return rows.length;
}

const RELAY_LOCK = 7_302_012;

/** Rows the broker refused for good, by id, with the reason; every other row was sent. */
export type RefusedRows = ReadonlyMap<number, string>;

/**
 * Publishes one batch of unpublished outbox rows in id order and marks them published in
 * the same transaction. Only the holder of an advisory lock relays, so two replicas never
 * reorder one key's messages; a failed publish rolls back and the rows are tried again.
 * A row the broker can never take (`publish` names it with its reason) is set aside with
 * `failed_reason` rather than holding back every row behind it.
 */
export async function relayOutboxBatch(
  dataSource: DataSource,
  publish: (rows: readonly OutboxRow[]) => Promise<RefusedRows | void>,
  limit = 1_000,
  onRefused?: (row: OutboxRow, reason: string) => void,
): Promise<number> {
  return dataSource.transaction(async (manager) => {
    const [lock] = await manager.query('SELECT pg_try_advisory_xact_lock($1) AS got', [RELAY_LOCK]);
    if (!lock?.got) return 0;
    const rows: Array<{ id: string; topic: string; key: string; value: string; value_raw: Buffer | null; headers: Record<string, string> }> =
      await manager.query(
        'SELECT id, topic, key, value, value_raw, headers FROM outbox WHERE published_at IS NULL ORDER BY id LIMIT $1',
        [limit],
      );
    if (rows.length === 0) return 0;
    const outboxRows: OutboxRow[] = rows.map((r) => ({ id: Number(r.id), topic: r.topic, key: r.key, value: r.value_raw ?? r.value, headers: r.headers }));
    const refused = (await publish(outboxRows)) ?? new Map<number, string>();
    await manager.query('UPDATE outbox SET published_at = clock_timestamp() WHERE id = ANY($1::bigint[])', [
      rows.map((r) => r.id),
    ]);
    if (refused.size > 0) {
      await manager.query(
        'UPDATE outbox o SET failed_reason = f.reason FROM unnest($1::bigint[], $2::text[]) AS f(id, reason) WHERE o.id = f.id',
        [[...refused.keys()], [...refused.values()]],
      );
      for (const row of outboxRows) {
        const reason = refused.get(row.id);
        if (reason !== undefined) onRefused?.(row, reason);
      }
    }
    return rows.length;
  });
}
