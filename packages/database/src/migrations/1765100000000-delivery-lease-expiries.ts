import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * How many leases a delivery has outlived. A worker dying mid-attempt costs one; a
 * delivery whose outcome can never be recorded would otherwise be reaped and retried at
 * once, forever. The reaper backs off on this count and dead-letters at its bound.
 */
export class DeliveryLeaseExpiries1765100000000 implements MigrationInterface {
  name = 'DeliveryLeaseExpiries1765100000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE deliveries ADD COLUMN lease_expiries integer NOT NULL DEFAULT 0');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE deliveries DROP COLUMN lease_expiries');
  }
}
