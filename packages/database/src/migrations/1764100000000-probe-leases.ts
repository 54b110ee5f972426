import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Probing scales out over replicas through `probe_leases`: one row per monitor with its next
 * due time and, while a replica probes it, that replica's lease. A replica claims due rows
 * with FOR UPDATE SKIP LOCKED, so no two replicas probe one monitor in the same slot, and a
 * killed replica's lease simply runs out. Monitors also remember what probing learned
 * (generation, protocol version, tool count), keep their headers sealed, and an HTTP check
 * may expect a status other than 2xx.
 */
export class ProbeLeases1764100000000 implements MigrationInterface {
  name = 'ProbeLeases1764100000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE monitors ADD COLUMN expected_status integer NULL;
      ALTER TABLE monitors ADD COLUMN sealed_headers text NULL;
      ALTER TABLE monitors ADD COLUMN header_names jsonb NOT NULL DEFAULT '[]';
      ALTER TABLE monitors ADD COLUMN mcp_generation text NULL;
      ALTER TABLE monitors ADD COLUMN protocol_version text NULL;
      ALTER TABLE monitors ADD COLUMN tools_count integer NULL;
      CREATE TABLE probe_leases (
        monitor_id uuid PRIMARY KEY REFERENCES monitors(id) ON DELETE CASCADE,
        next_due_at timestamptz NOT NULL,
        owner text NULL,
        lease_until timestamptz NULL
      );
      CREATE INDEX probe_leases_due ON probe_leases (next_due_at);
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      DROP TABLE probe_leases;
      ALTER TABLE monitors DROP COLUMN expected_status, DROP COLUMN sealed_headers, DROP COLUMN header_names,
        DROP COLUMN mcp_generation, DROP COLUMN protocol_version, DROP COLUMN tools_count;
    `);
  }
}
