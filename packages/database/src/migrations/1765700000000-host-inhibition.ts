import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Inhibition by host, a tenant's opt-in: while one monitor's transport outage of a host is
 * open, the other monitors' incidents on that host page nobody. `host_outages` holds each
 * such incident: the first to claim a host (`inhibited_by` null, unique per tenant and host)
 * pages; the others name it.
 */
export class HostInhibition1765700000000 implements MigrationInterface {
  name = 'HostInhibition1765700000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE tenant_settings ADD COLUMN inhibit_by_host boolean NOT NULL DEFAULT false;
      CREATE TABLE host_outages (
        tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        dedup_key text NOT NULL,
        host text NOT NULL,
        inhibited_by text,
        opened_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (tenant_id, dedup_key)
      );
      CREATE UNIQUE INDEX host_outages_claim ON host_outages (tenant_id, host) WHERE inhibited_by IS NULL;
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE host_outages; ALTER TABLE tenant_settings DROP COLUMN inhibit_by_host');
  }
}
