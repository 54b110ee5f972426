import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * `GET /v1/incidents/:key` reads the incident's own events, not its monitor's whole stream
 * (which grows with every state change for the monitor's life): this index finds them
 * directly. Built concurrently, outside a transaction, so a large events table keeps taking
 * writes while it builds.
 */
export class IncidentEventsIndex1765000100000 implements MigrationInterface {
  name = 'IncidentEventsIndex1765000100000';
  transaction = false;

  async up(q: QueryRunner): Promise<void> {
    // A build interrupted midway leaves an invalid index of the same name: drop it first.
    await q.query(`
      DO $$ BEGIN
        IF EXISTS (SELECT 1 FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE c.relname = 'events_incident' AND NOT i.indisvalid) THEN
          DROP INDEX events_incident;
        END IF;
      END $$`);
    await q.query(
      `CREATE INDEX CONCURRENTLY IF NOT EXISTS events_incident ON events (stream_id, (data->>'dedup_key'), stream_version) WHERE data ? 'dedup_key'`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP INDEX CONCURRENTLY IF EXISTS events_incident');
  }
}
