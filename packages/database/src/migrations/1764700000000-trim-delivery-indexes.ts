import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Every status change of a delivery is a new row version with an entry in each of its
 * indexes, so each index costs the queue on every claim and every outcome.
 * deliveries_endpoint (endpoint_id, created_at DESC) has had no reader since the list
 * pages moved to deliveries_endpoint_page, and replay reads deliveries_endpoint_status.
 */
export class TrimDeliveryIndexes1764700000000 implements MigrationInterface {
  name = 'TrimDeliveryIndexes1764700000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query('DROP INDEX IF EXISTS deliveries_endpoint');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('CREATE INDEX deliveries_endpoint ON deliveries (endpoint_id, created_at DESC)');
  }
}
