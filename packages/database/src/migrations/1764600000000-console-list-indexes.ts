import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Indexes for the list pages (console and API alike): keyset pagination orders by
 * (millisecond-truncated UTC time, id) under a tenant or an endpoint, in either direction,
 * so each page is an index range scan however many rows sit before it. The incident page
 * reads every delivery of one incident (tenant, dedup key) without knowing the endpoints.
 */
export class ConsoleListIndexes1764600000000 implements MigrationInterface {
  name = 'ConsoleListIndexes1764600000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE INDEX monitors_tenant_page ON monitors (tenant_id, date_trunc('milliseconds', created_at AT TIME ZONE 'UTC'), id);
      CREATE INDEX endpoints_tenant_page ON endpoints (tenant_id, date_trunc('milliseconds', created_at AT TIME ZONE 'UTC'), id);
      CREATE INDEX deliveries_endpoint_page ON deliveries (endpoint_id, date_trunc('milliseconds', created_at AT TIME ZONE 'UTC'), id);
      CREATE INDEX incidents_tenant_page ON incidents (tenant_id, date_trunc('milliseconds', started_at AT TIME ZONE 'UTC'), dedup_key);
      CREATE INDEX incidents_tenant_status_page ON incidents (tenant_id, status, date_trunc('milliseconds', started_at AT TIME ZONE 'UTC'), dedup_key);
      CREATE INDEX deliveries_incident ON deliveries (tenant_id, dedup_key, created_at);
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      DROP INDEX deliveries_incident; DROP INDEX incidents_tenant_status_page; DROP INDEX incidents_tenant_page; DROP INDEX deliveries_endpoint_page;
      DROP INDEX endpoints_tenant_page; DROP INDEX monitors_tenant_page;
    `);
  }
}
