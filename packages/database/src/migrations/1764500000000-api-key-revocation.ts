import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Keys can be revoked (and rotated: a new key, the old one revoked). A revoked key stays as a
 * row so the list can show it and when it stopped working; it no longer authenticates.
 */
export class ApiKeyRevocation1764500000000 implements MigrationInterface {
  name = 'ApiKeyRevocation1764500000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE api_keys ADD COLUMN revoked_at timestamptz;
      CREATE INDEX api_keys_tenant_created ON api_keys (tenant_id, created_at, id);
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      DROP INDEX api_keys_tenant_created;
      ALTER TABLE api_keys DROP COLUMN revoked_at;
    `);
  }
}
