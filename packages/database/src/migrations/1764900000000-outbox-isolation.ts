import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A dead-lettered record is copied to the DLQ as the bytes it arrived with: a value that is
 * not valid text (a NUL, broken UTF-8) cannot sit in a text column, and refusing to store
 * it would stop the partition it came from. `value_raw` holds those bytes (`value` is then
 * empty). A row the broker refuses for good (larger than the topic allows) is set aside
 * with its reason in `failed_reason` instead of blocking every row behind it.
 */
export class OutboxIsolation1764900000000 implements MigrationInterface {
  name = 'OutboxIsolation1764900000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE outbox ADD COLUMN value_raw bytea, ADD COLUMN failed_reason text');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE outbox DROP COLUMN value_raw, DROP COLUMN failed_reason');
  }
}
