import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A tenant's own limits on what it may hold (monitors, endpoints, receivers), set by the
 * operator; a limit not set here is the deployment's default (TOCSIN_QUOTA_*).
 */
export class TenantQuotas1765500000000 implements MigrationInterface {
  name = 'TenantQuotas1765500000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE tenants ADD COLUMN quotas jsonb NOT NULL DEFAULT '{}'`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE tenants DROP COLUMN quotas');
  }
}
