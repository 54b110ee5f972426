import type { EntityManager } from 'typeorm';

/**
 * Kafka offsets kept in Postgres, written in the same transaction as the effects of the
 * records they cover: after a crash the consumer resumes exactly where its effects end.
 */
export async function loadOffsets(
  manager: EntityManager,
  group: string,
  topic: string,
): Promise<Map<number, bigint>> {
  const rows: Array<{ partition: number; next_offset: string }> = await manager.query(
    'SELECT partition, next_offset FROM consumer_offsets WHERE consumer_group = $1 AND topic = $2',
    [group, topic],
  );
  return new Map(rows.map((r) => [r.partition, BigInt(r.next_offset)]));
}

export async function storeOffset(
  manager: EntityManager,
  group: string,
  topic: string,
  partition: number,
  nextOffset: bigint,
): Promise<void> {
  await manager.query(
    `INSERT INTO consumer_offsets (consumer_group, topic, partition, next_offset) VALUES ($1, $2, $3, $4)
     ON CONFLICT (consumer_group, topic, partition)
     DO UPDATE SET next_offset = GREATEST(consumer_offsets.next_offset, EXCLUDED.next_offset), updated_at = now()`,
    [group, topic, partition, nextOffset.toString()],
  );
}

/** Returns false when this group already processed the event id (a replay by another producer). */
export async function markProcessed(manager: EntityManager, group: string, eventId: string): Promise<boolean> {
  const rows: unknown[] = await manager.query(
    `INSERT INTO processed_messages (consumer_group, event_id) VALUES ($1, $2)
     ON CONFLICT DO NOTHING RETURNING event_id`,
    [group, eventId],
  );
  return rows.length === 1;
}

/** The batch form of markProcessed: returns the ids this group had not processed before. */
export async function markProcessedMany(manager: EntityManager, group: string, eventIds: readonly string[]): Promise<Set<string>> {
  if (eventIds.length === 0) return new Set();
  const rows: Array<{ event_id: string }> = await manager.query(
    `INSERT INTO processed_messages (consumer_group, event_id)
     SELECT $1, id FROM unnest($2::uuid[]) AS id
     ON CONFLICT DO NOTHING RETURNING event_id`,
    [group, [...new Set(eventIds)]],
  );
  return new Set(rows.map((r) => r.event_id));
}
