import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The router rewrites a monitor's snapshot on every probe result. With free room on each
 * page the new row version stays on the same page and skips the primary-key index (a HOT
 * update), instead of a new index entry per result; the table is small (one row per
 * monitor), so leaving half of each page free costs little. Pages written before this
 * migration get the room as they are rewritten (or at once with VACUUM FULL monitor_state).
 */
export class MonitorStateFillfactor1764800000000 implements MigrationInterface {
  name = 'MonitorStateFillfactor1764800000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE monitor_state SET (fillfactor = 50)');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE monitor_state RESET (fillfactor)');
  }
}
