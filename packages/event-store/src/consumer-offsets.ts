import type { DataSource, EntityManager } from 'typeorm';

/** One partition of one topic, as consumed by one group from one Kafka cluster. */
export interface PartitionScope {
  readonly group: string;
  readonly clusterId: string;
  readonly topic: string;
  readonly partition: number;
}

export interface FreshRecords<R> {
  /** Records at or past the stored offset: not applied yet. */
  readonly fresh: R[];
  /** Records below it: their effects are already committed. */
  readonly replayed: number;
  /** Set when the stored offset lay beyond the partition's end (the topic was re-created) and was ignored. */
  readonly staleOffset?: bigint;
}

/**
 * Kafka offsets kept in Postgres, written in the same transaction as the effects of the
 * records they cover: after a crash the consumer resumes exactly where its effects end.
 * Locks the partition's offset row so two consumers (a rebalance in flight) take turns.
 */
export async function freshRecords<R extends { readonly offset: string }>(
  manager: EntityManager,
  scope: PartitionScope,
  records: readonly R[],
  highWatermark: string,
): Promise<FreshRecords<R>> {
  const [row]: Array<{ next_offset: string }> = await manager.query(
    `SELECT next_offset FROM consumer_offsets
     WHERE consumer_group = $1 AND cluster_id = $2 AND topic = $3 AND partition = $4 FOR UPDATE`,
    [scope.group, scope.clusterId, scope.topic, scope.partition],
  );
  const stored = row ? BigInt(row.next_offset) : undefined;
  if (stored !== undefined && stored > BigInt(highWatermark)) {
    return { fresh: [...records], replayed: 0, staleOffset: stored };
  }
  const fresh = stored === undefined ? [...records] : records.filter((r) => BigInt(r.offset) >= stored);
  return { fresh, replayed: records.length - fresh.length };
}

/**
 * Never moves backwards (a consumer that lost its partition in a rebalance may commit
 * late), except to replace an offset that freshRecords found stale.
 */
export async function storeOffset(
  manager: EntityManager,
  scope: PartitionScope,
  nextOffset: bigint,
  replaceStale = false,
): Promise<void> {
  const next = replaceStale ? 'EXCLUDED.next_offset' : 'GREATEST(consumer_offsets.next_offset, EXCLUDED.next_offset)';
  await manager.query(
    `INSERT INTO consumer_offsets (consumer_group, cluster_id, topic, partition, next_offset) VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (consumer_group, cluster_id, topic, partition)
     DO UPDATE SET next_offset = ${next}, updated_at = now()`,
    [scope.group, scope.clusterId, scope.topic, scope.partition, nextOffset.toString()],
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

/** Drops remembered event ids older than the retention: the dedup window stays bounded. */
export async function purgeProcessedMessages(dataSource: DataSource, retentionSeconds: number, limit = 10_000): Promise<number> {
  const rows: unknown[] = await dataSource.query(
    `DELETE FROM processed_messages WHERE ctid IN (
       SELECT ctid FROM processed_messages WHERE processed_at < now() - make_interval(secs => $1) LIMIT $2)
     RETURNING event_id`,
    [retentionSeconds, limit],
  );
  return rows.length;
}
