import { randomUUID } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import type { EventMetadata, NewEvent } from '@tocsin/event-store';

/** Events for one stream, to go after `afterVersion`. */
export interface StreamAppend {
  readonly streamId: string;
  readonly afterVersion: number;
  readonly events: readonly NewEvent[];
  readonly metadata: EventMetadata;
}

/**
 * Appends to many streams in one statement. The caller has already won each stream's
 * version (a row update guarded by the version, in the same transaction), so a
 * conflict here means a bug; it is skipped rather than failing everyone's batch.
 * Returns how many events were written.
 */
export async function appendToStreams(manager: EntityManager, appends: readonly StreamAppend[]): Promise<number> {
  const rows: Array<{ i: string; s: string; v: number; t: string; sv: number; d: object; m: EventMetadata }> = [];
  for (const append of appends) {
    append.events.forEach((event, n) => {
      rows.push({
        i: event.eventId ?? randomUUID(),
        s: append.streamId,
        v: append.afterVersion + n + 1,
        t: event.type,
        sv: event.schemaVersion,
        d: event.data,
        m: append.metadata,
      });
    });
  }
  if (rows.length === 0) return 0;
  // One jsonb document, not parallel text[] arrays: Postgres parses it far faster than
  // array literals of escaped JSON, and the client sends it without escaping each element.
  const inserted: unknown[] = await manager.query(
    `INSERT INTO events (event_id, stream_id, stream_version, type, schema_version, data, metadata)
     SELECT i, s, v, t, sv, d, m FROM jsonb_to_recordset($1::jsonb) AS x(i uuid, s text, v int, t text, sv int, d jsonb, m jsonb)
     ON CONFLICT (stream_id, stream_version) DO NOTHING
     RETURNING position`,
    [JSON.stringify(rows)],
  );
  return inserted.length;
}
