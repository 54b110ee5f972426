import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The trace a delivery belongs to: each attempt is a span under it, so a trace runs from
 * the probe result to every attempt. Nullable: rows made before tracing have none, and an
 * old dispatcher writing beside a new one leaves it empty (docs/operations.md, two versions live).
 */
export class DeliveryTraceparent1765200000000 implements MigrationInterface {
  name = 'DeliveryTraceparent1765200000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE deliveries ADD COLUMN traceparent text');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE deliveries DROP COLUMN traceparent');
  }
}
