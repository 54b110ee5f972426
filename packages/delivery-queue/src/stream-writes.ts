import type { EntityManager } from 'typeorm';
import type { EventMetadata, NewEvent } from '@tocsin/event-store';
import { DistinctValues } from './distinct-values';

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
  // Many streams share their metadata (every delivery of one alert has the same): each
  // distinct metadata document is sent once and rows point at it by index. Event ids
  // the caller did not choose are drawn by Postgres, not sent.
  const rows: Array<{ i?: string; s: string; v: number; t: string; sv: number; d: object; m: number }> = [];
  const metadata = new DistinctValues<string>();
  for (const append of appends) {
    const m = metadata.indexOf(JSON.stringify(append.metadata));
    append.events.forEach((event, n) => {
      rows.push({
        ...(event.eventId === undefined ? {} : { i: event.eventId }),
        s: append.streamId,
        v: append.afterVersion + n + 1,
        t: event.type,
        sv: event.schemaVersion,
        d: event.data,
        m,
      });
    });
  }
  if (rows.length === 0) return 0;
  // One jsonb document, not parallel text[] arrays: Postgres parses it far faster than
  // array literals of escaped JSON, and the client sends it without escaping each element.
  const inserted: unknown[] = await manager.query(
    `INSERT INTO events (event_id, stream_id, stream_version, type, schema_version, data, metadata)
     SELECT coalesce(i, gen_random_uuid()), s, v, t, sv, d, $2::jsonb -> m
     FROM jsonb_to_recordset($1::jsonb) AS x(i uuid, s text, v int, t text, sv int, d jsonb, m int)
     ON CONFLICT (stream_id, stream_version) DO NOTHING
     RETURNING position`,
    [JSON.stringify(rows), `[${metadata.values.join(',')}]`],
  );
  return inserted.length;
}
