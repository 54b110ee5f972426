import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Silences: while one is active, the alerts it matches (every monitor of the tenant, or one,
 * optionally only some severities) are recorded as skipped deliveries instead of sent.
 * `monitor_id` has no foreign key, as `fallback_endpoint_id`: the API checks it belongs to
 * the tenant, and a silence that outlives its monitor matches nothing.
 */
export class Silences1765600000000 implements MigrationInterface {
  name = 'Silences1765600000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE silences (
        tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        id uuid NOT NULL,
        monitor_id uuid,
        severities text[],
        starts_at timestamptz NOT NULL,
        ends_at timestamptz NOT NULL,
        comment text,
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (tenant_id, id),
        CHECK (ends_at > starts_at)
      );
      CREATE INDEX silences_active ON silences (tenant_id, ends_at);
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE silences');
  }
}
