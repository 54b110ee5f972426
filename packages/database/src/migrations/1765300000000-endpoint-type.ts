import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Where an endpoint's deliveries go (DESIGN §9): `webhook`, the signed POST every endpoint
 * made so far, or `pagerduty`, an event to PagerDuty's Events API v2 whose routing key is
 * sealed in the `secret` column. The default keeps every existing row a webhook.
 */
export class EndpointType1765300000000 implements MigrationInterface {
  name = 'EndpointType1765300000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE endpoints ADD COLUMN type text NOT NULL DEFAULT 'webhook'`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE endpoints DROP COLUMN type');
  }
}
