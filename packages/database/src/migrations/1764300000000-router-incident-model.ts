import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The router's full incident model: tenant-wide severity overrides, per-monitor SLO,
 * maintenance windows (configuration) and maintenance periods (a projection of the
 * monitor streams), escalations on the incidents read model, and indexes that let the
 * dedup ids and published outbox rows be purged cheaply.
 */
export class RouterIncidentModel1764300000000 implements MigrationInterface {
  name = 'RouterIncidentModel1764300000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE tenant_settings (
        tenant_id uuid PRIMARY KEY REFERENCES tenants(id) ON DELETE CASCADE,
        severity_policy jsonb NOT NULL DEFAULT '{}',
        updated_at timestamptz NOT NULL DEFAULT now()
      );
      ALTER TABLE monitors ADD COLUMN IF NOT EXISTS slo jsonb NOT NULL DEFAULT '{}';
      CREATE TABLE maintenance_windows (
        id uuid PRIMARY KEY,
        tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        monitor_id uuid NOT NULL REFERENCES monitors(id) ON DELETE CASCADE,
        starts_at timestamptz NOT NULL,
        ends_at timestamptz NOT NULL,
        reason text,
        created_at timestamptz NOT NULL DEFAULT now(),
        CHECK (ends_at > starts_at)
      );
      CREATE INDEX maintenance_windows_monitor ON maintenance_windows (monitor_id, ends_at);
      CREATE TABLE maintenance_periods (
        tenant_id text NOT NULL,
        monitor_id text NOT NULL,
        maintenance_seq integer NOT NULL,
        reason text NOT NULL,
        window_id uuid,
        started_at timestamptz NOT NULL,
        ended_at timestamptz,
        PRIMARY KEY (tenant_id, monitor_id, maintenance_seq)
      );
      ALTER TABLE incidents ADD COLUMN escalated_at timestamptz;
      CREATE INDEX incidents_monitor ON incidents (tenant_id, monitor_id, started_at);
      CREATE INDEX processed_messages_age ON processed_messages (processed_at);
      CREATE INDEX outbox_published ON outbox (published_at) WHERE published_at IS NOT NULL;
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      DROP INDEX outbox_published; DROP INDEX processed_messages_age; DROP INDEX incidents_monitor;
      ALTER TABLE incidents DROP COLUMN escalated_at;
      DROP TABLE maintenance_periods; DROP TABLE maintenance_windows;
      ALTER TABLE monitors DROP COLUMN slo;
      DROP TABLE tenant_settings;
    `);
  }
}
