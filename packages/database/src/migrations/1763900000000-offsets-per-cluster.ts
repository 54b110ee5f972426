import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Offsets stored in Postgres are only meaningful for the Kafka cluster they came from: a
 * new cluster (or a re-created local broker) starts its topics at offset 0 again, and an
 * offset kept from the old one would make every new record look like a replay.
 */
export class OffsetsPerCluster1763900000000 implements MigrationInterface {
  name = 'OffsetsPerCluster1763900000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE consumer_offsets ADD COLUMN cluster_id text NOT NULL DEFAULT '';
      ALTER TABLE consumer_offsets DROP CONSTRAINT consumer_offsets_pkey;
      ALTER TABLE consumer_offsets ADD PRIMARY KEY (consumer_group, cluster_id, topic, partition);
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      DELETE FROM consumer_offsets WHERE cluster_id <> '';
      ALTER TABLE consumer_offsets DROP CONSTRAINT consumer_offsets_pkey;
      ALTER TABLE consumer_offsets DROP COLUMN cluster_id;
      ALTER TABLE consumer_offsets ADD PRIMARY KEY (consumer_group, topic, partition);
    `);
  }
}
