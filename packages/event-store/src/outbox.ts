import type { DataSource, EntityManager } from 'typeorm';

export interface OutboxMessage {
  readonly topic: string;
  readonly key: string;
  /** The record value as sent: JSON text, or a rejected record's raw bytes for the DLQ. */
  readonly value: string;
  readonly headers: Record<string, string>;
}

export interface OutboxRow extends OutboxMessage {
  readonly id: number;
}

export async function enqueueOutbox(manager: EntityManager, messages: readonly OutboxMessage[]): Promise<void> {
  for (const m of messages) {
    await manager.query('INSERT INTO outbox (topic, key, value, headers) VALUES ($1, $2, $3, $4::jsonb)', [
      m.topic,
      m.key,
      m.value,
      JSON.stringify(m.headers),
    ]);
  }
}

const RELAY_LOCK = 7_302_012;

/**
 * Publishes one batch of unpublished outbox rows in id order and marks them published in
 * the same transaction. Only the holder of an advisory lock relays, so two replicas never
 * reorder one key's messages; a failed publish rolls back and the rows are tried again.
 */
export async function relayOutboxBatch(
  dataSource: DataSource,
  publish: (rows: readonly OutboxRow[]) => Promise<void>,
  limit = 200,
): Promise<number> {
  return dataSource.transaction(async (manager) => {
    const [lock] = await manager.query('SELECT pg_try_advisory_xact_lock($1) AS got', [RELAY_LOCK]);
    if (!lock?.got) return 0;
    const rows: Array<{ id: string; topic: string; key: string; value: string; headers: Record<string, string> }> =
      await manager.query(
        'SELECT id, topic, key, value, headers FROM outbox WHERE published_at IS NULL ORDER BY id LIMIT $1',
        [limit],
      );
    if (rows.length === 0) return 0;
    await publish(rows.map((r) => ({ ...r, id: Number(r.id) })));
    await manager.query('UPDATE outbox SET published_at = clock_timestamp() WHERE id = ANY($1::bigint[])', [
      rows.map((r) => r.id),
    ]);
    return rows.length;
  });
}
