import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Endpoint operations and a queue that stays fast:
 * - previous signing secrets kept through a rotation's overlap window;
 * - endpoint_stats, the projection of attempt events (totals, recent outcomes, breaker);
 * - deliveries.schedule_offset, so a redelivered delivery starts its retry schedule afresh;
 * - partial indexes covering only open deliveries, so the claim query never visits the
 *   delivered history, however large it grows.
 */
export class EndpointOperations1764400000000 implements MigrationInterface {
  name = 'EndpointOperations1764400000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE endpoints ADD COLUMN previous_secrets jsonb NOT NULL DEFAULT '[]';

      CREATE TABLE endpoint_stats (
        endpoint_id uuid PRIMARY KEY,
        tenant_id uuid NOT NULL,
        delivered bigint NOT NULL DEFAULT 0,
        failed bigint NOT NULL DEFAULT 0,
        last_delivery_at timestamptz,
        last_attempt_at timestamptz,
        recent_outcomes text NOT NULL DEFAULT '',
        breaker_state text NOT NULL DEFAULT 'closed',
        breaker_failures integer NOT NULL DEFAULT 0,
        breaker_opened_at timestamptz,
        breaker_retry_at timestamptz,
        breaker_opens integer NOT NULL DEFAULT 0
      );
      INSERT INTO endpoint_stats (endpoint_id, tenant_id, delivered, failed, last_delivery_at, last_attempt_at)
      SELECT d.endpoint_id, d.tenant_id,
             count(*) FILTER (WHERE e.type = 'AttemptSucceeded'),
             count(*) FILTER (WHERE e.type = 'AttemptFailed'),
             max(e.recorded_at) FILTER (WHERE e.type = 'AttemptSucceeded'),
             max(e.recorded_at)
      FROM deliveries d JOIN events e ON e.stream_id = 'delivery-' || d.id::text
      WHERE e.type IN ('AttemptSucceeded', 'AttemptFailed')
      GROUP BY d.endpoint_id, d.tenant_id;

      ALTER TABLE deliveries ADD COLUMN schedule_offset integer NOT NULL DEFAULT 0;

      DROP INDEX deliveries_due;
      DROP INDEX deliveries_ordering;
      CREATE INDEX deliveries_queue ON deliveries (endpoint_id, next_attempt_at, sequence)
        WHERE status IN ('pending', 'retrying');
      CREATE INDEX deliveries_in_flight ON deliveries (endpoint_id, lease_until) WHERE status = 'in_flight';
      CREATE INDEX deliveries_open_ordering ON deliveries (endpoint_id, dedup_key, sequence)
        WHERE status IN ('pending', 'retrying', 'in_flight');
      CREATE INDEX deliveries_endpoint_status ON deliveries (endpoint_id, status, created_at);
      CREATE INDEX deliveries_retention ON deliveries (updated_at)
        WHERE status IN ('delivered', 'dead_lettered', 'skipped', 'failed');
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      DROP INDEX deliveries_retention;
      DROP INDEX deliveries_endpoint_status;
      DROP INDEX deliveries_open_ordering;
      DROP INDEX deliveries_in_flight;
      DROP INDEX deliveries_queue;
      CREATE INDEX deliveries_due ON deliveries (next_attempt_at) WHERE status IN ('pending', 'retrying');
      CREATE INDEX deliveries_ordering ON deliveries (endpoint_id, dedup_key, sequence);
      ALTER TABLE deliveries DROP COLUMN schedule_offset;
      DROP TABLE endpoint_stats;
      ALTER TABLE endpoints DROP COLUMN previous_secrets;
    `);
  }
}
