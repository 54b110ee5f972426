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
  const ids: string[] = [];
  const streams: string[] = [];
  const versions: number[] = [];
  const types: string[] = [];
  const schemaVersions: number[] = [];
  const data: string[] = [];
  const metadata: string[] = [];
  for (const append of appends) {
    const meta = JSON.stringify(append.metadata);
    append.events.forEach((event, i) => {
      ids.push(event.eventId ?? randomUUID());
      streams.push(append.streamId);
      versions.push(append.afterVersion + i + 1);
      types.push(event.type);
      schemaVersions.push(event.schemaVersion);
      data.push(JSON.stringify(event.data));
      metadata.push(meta);
    });
  }
  if (ids.length === 0) return 0;
  const rows: unknown[] = await manager.query(
    `INSERT INTO events (event_id, stream_id, stream_version, type, schema_version, data, metadata)
     SELECT id, stream, version, type, schema_version, data::jsonb, metadata::jsonb
     FROM unnest($1::uuid[], $2::text[], $3::int[], $4::text[], $5::int[], $6::text[], $7::text[])
          AS t(id, stream, version, type, schema_version, data, metadata)
     ON CONFLICT (stream_id, stream_version) DO NOTHING
     RETURNING position`,
    [ids, streams, versions, types, schemaVersions, data, metadata],
  );
  return rows.length;
}
