import { createHash, randomUUID } from 'node:crypto';
import type { DataSource, EntityManager } from 'typeorm';
import { upcast } from './upcasters';

export interface NewEvent<D extends object = object> {
  readonly type: string;
  readonly schemaVersion: number;
  readonly data: D;
  readonly eventId?: string;
}

export interface EventMetadata {
  readonly tenant_id: string;
  readonly causation_id?: string;
  readonly correlation_id?: string;
  readonly [key: string]: unknown;
}

export interface StoredEvent<D = Record<string, unknown>> {
  readonly position: number;
  readonly eventId: string;
  readonly streamId: string;
  readonly streamVersion: number;
  readonly type: string;
  readonly schemaVersion: number;
  readonly data: D;
  readonly metadata: EventMetadata;
  readonly recordedAt: Date;
}

export type AppendResult =
  | { readonly ok: true; readonly events: StoredEvent[]; readonly version: number }
  | { readonly ok: false; readonly reason: 'conflict'; readonly actualVersion: number };

interface EventRow {
  position: string;
  event_id: string;
  stream_id: string;
  stream_version: number;
  type: string;
  schema_version: number;
  data: Record<string, unknown>;
  metadata: EventMetadata;
  recorded_at: Date;
}

function toStored(row: EventRow): StoredEvent {
  const latest = upcast({ type: row.type, schemaVersion: row.schema_version, data: row.data });
  return {
    position: Number(row.position),
    eventId: row.event_id,
    streamId: row.stream_id,
    streamVersion: row.stream_version,
    type: row.type,
    schemaVersion: latest.schemaVersion,
    data: latest.data,
    metadata: row.metadata,
    recordedAt: row.recorded_at,
  };
}

/** One stream's share of a multi-stream append. */
export interface StreamAppend {
  readonly streamId: string;
  readonly expectedVersion: number;
  readonly events: readonly NewEvent[];
  /** One per event, or one for all of them. */
  readonly metadata: EventMetadata | readonly EventMetadata[];
}

export type AppendManyResult =
  | { readonly ok: true; readonly events: StoredEvent[] }
  | { readonly ok: false; readonly reason: 'conflict'; readonly streamIds: string[] };

/**
 * A UUID (version 5 layout) derived from the stream and version: the event written at a
 * position always has the same id, so a replay, a retry or a second clean run of the same
 * input yields the same event ids and the same alert ids downstream.
 */
export function deterministicEventId(streamId: string, streamVersion: number): string {
  const hex = createHash('sha1').update(`tocsin-event\u0000${streamId}\u0000${streamVersion}`).digest('hex');
  const variant = ((parseInt(hex.slice(16, 18), 16) & 0x3f) | 0x80).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-${variant}${hex.slice(18, 20)}-${hex.slice(20, 32)}`;
}

/**
 * The append-only event log. Every call takes the caller's EntityManager so an append
 * commits or rolls back together with whatever else the caller writes.
 */
export class EventStore {
  constructor(private readonly dataSource: DataSource) {}

  /**
   * Appends after `expectedVersion` (0 for a new stream). A concurrent writer shows up as
   * a conflict result rather than an exception: the caller retries with fresh state.
   */
  async append(
    manager: EntityManager,
    streamId: string,
    expectedVersion: number,
    events: readonly NewEvent[],
    metadata: EventMetadata,
  ): Promise<AppendResult> {
    if (events.length === 0) return { ok: true, events: [], version: expectedVersion };
    const params: unknown[] = [];
    const tuples = events.map((event, i) => {
      const base = params.length;
      params.push(
        event.eventId ?? randomUUID(),
        streamId,
        expectedVersion + i + 1,
        event.type,
        event.schemaVersion,
        JSON.stringify(event.data),
        JSON.stringify(metadata),
      );
      return `($${base + 1}, $${base + 2}, $${base + 3}, $${base + 4}, $${base + 5}, $${base + 6}::jsonb, $${base + 7}::jsonb)`;
    });
    const inserted: EventRow[] = await manager.query(
      `INSERT INTO events (event_id, stream_id, stream_version, type, schema_version, data, metadata)
       VALUES ${tuples.join(', ')}
       ON CONFLICT (stream_id, stream_version) DO NOTHING
       RETURNING *`,
      params,
    );
    if (inserted.length !== events.length) {
      return { ok: false, reason: 'conflict', actualVersion: await this.streamVersion(manager, streamId) };
    }
    return { ok: true, events: inserted.map(toStored), version: expectedVersion + events.length };
  }

  /**
   * Appends to many streams in one statement (one round trip per batch, however many
   * monitors changed). Any stream whose expected version is stale makes the whole call a
   * conflict, and the caller's transaction should roll back and retry.
   */
  async appendMany(manager: EntityManager, appends: readonly StreamAppend[]): Promise<AppendManyResult> {
    const ids: string[] = [];
    const streams: string[] = [];
    const versions: number[] = [];
    const types: string[] = [];
    const schemaVersions: number[] = [];
    const data: string[] = [];
    const metadata: string[] = [];
    for (const append of appends) {
      append.events.forEach((event, i) => {
        const version = append.expectedVersion + i + 1;
        const meta = Array.isArray(append.metadata) ? append.metadata[i] : append.metadata;
        ids.push(event.eventId ?? deterministicEventId(append.streamId, version));
        streams.push(append.streamId);
        versions.push(version);
        types.push(event.type);
        schemaVersions.push(event.schemaVersion);
        data.push(JSON.stringify(event.data));
        metadata.push(JSON.stringify(meta ?? {}));
      });
    }
    if (ids.length === 0) return { ok: true, events: [] };
    const inserted: EventRow[] = await manager.query(
      `INSERT INTO events (event_id, stream_id, stream_version, type, schema_version, data, metadata)
       SELECT * FROM unnest($1::uuid[], $2::text[], $3::int[], $4::text[], $5::int[], $6::jsonb[], $7::jsonb[])
       ON CONFLICT DO NOTHING
       RETURNING *`,
      [ids, streams, versions, types, schemaVersions, data, metadata],
    );
    if (inserted.length !== ids.length) {
      const written = new Set(inserted.map((r) => `${r.stream_id}\u0000${r.stream_version}`));
      const conflicted = new Set(streams.filter((s, i) => !written.has(`${s}\u0000${versions[i]}`)));
      return { ok: false, reason: 'conflict', streamIds: [...conflicted] };
    }
    const order = new Map(ids.map((id, i) => [id, i]));
    return {
      ok: true,
      events: inserted.map(toStored).sort((a, b) => (order.get(a.eventId) ?? 0) - (order.get(b.eventId) ?? 0)),
    };
  }

  /** Every stored event of streams starting with `prefix`, in log order, a page at a time. */
  async *readByPrefix(prefix: string, pageSize = 5_000, manager: EntityManager = this.dataSource.manager): AsyncGenerator<StoredEvent[]> {
    let after = 0;
    for (;;) {
      const rows: EventRow[] = await manager.query(
        'SELECT * FROM events WHERE position > $1 AND stream_id LIKE $2 ORDER BY position LIMIT $3',
        [after, `${prefix.replace(/[\\%_]/g, (c) => `\\${c}`)}%`, pageSize],
      );
      if (rows.length === 0) return;
      yield rows.map(toStored);
      after = Number(rows[rows.length - 1]!.position);
    }
  }

  async readStream(streamId: string, manager: EntityManager = this.dataSource.manager): Promise<StoredEvent[]> {
    const rows: EventRow[] = await manager.query(
      'SELECT * FROM events WHERE stream_id = $1 ORDER BY stream_version',
      [streamId],
    );
    return rows.map(toStored);
  }

  /**
   * The events of one stream that carry `data.dedup_key = dedupKey` (one incident's), oldest
   * first, at most `limit`: found through the `events_incident` index, never by reading the
   * whole stream.
   */
  async readStreamByDedupKey(streamId: string, dedupKey: string, limit: number, manager: EntityManager = this.dataSource.manager): Promise<StoredEvent[]> {
    const rows: EventRow[] = await manager.query(
      `SELECT * FROM events WHERE stream_id = $1 AND data ? 'dedup_key' AND data->>'dedup_key' = $2 ORDER BY stream_version LIMIT $3`,
      [streamId, dedupKey, limit],
    );
    return rows.map(toStored);
  }

  async streamVersion(manager: EntityManager, streamId: string): Promise<number> {
    const [row] = await manager.query('SELECT max(stream_version) AS v FROM events WHERE stream_id = $1', [streamId]);
    return Number(row?.v ?? 0);
  }
}
