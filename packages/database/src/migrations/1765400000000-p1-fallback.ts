import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A P1 fallback: an endpoint may name another of its tenant's endpoints to take a P1 it
 * cannot deliver (dead-lettered, or skipped as the endpoint is paused or disabled). The
 * delivery made for the fallback points at the one it stands in for. No foreign key: one
 * on the id alone would cross tenants when tables are distributed by tenant (see
 * docs/scaling.md); the API checks the fallback is the tenant's own, removing an endpoint
 * clears the references to it, and a delivery to an endpoint gone is dead-lettered.
 */
export class P1Fallback1765400000000 implements MigrationInterface {
  name = 'P1Fallback1765400000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE endpoints ADD COLUMN fallback_endpoint_id uuid');
    await q.query('ALTER TABLE deliveries ADD COLUMN fallback_of uuid');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE deliveries DROP COLUMN fallback_of');
    await q.query('ALTER TABLE endpoints DROP COLUMN fallback_endpoint_id');
  }
}
