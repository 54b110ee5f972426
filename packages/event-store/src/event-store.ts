import { randomUUID } from 'node:crypto';
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

  async readStream(streamId: string, manager: EntityManager = this.dataSource.manager): Promise<StoredEvent[]> {
    const rows: EventRow[] = await manager.query(
      'SELECT * FROM events WHERE stream_id = $1 ORDER BY stream_version',
      [streamId],
    );
    return rows.map(toStored);
  }

  async streamVersion(manager: EntityManager, streamId: string): Promise<number> {
    const [row] = await manager.query('SELECT max(stream_version) AS v FROM events WHERE stream_id = $1', [streamId]);
    return Number(row?.v ?? 0);
  }
}
