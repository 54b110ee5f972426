import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Endpoint headers (often a receiver's bearer token) are sealed like monitor headers: the
 * sealed JSON object in `sealed_headers`, the names, which answers may show, in
 * `header_names`. Existing rows keep their plain `headers` until the apps that hold the
 * encryption key seal them at boot (or `tocsin admin reseal` does): SQL has no key to seal
 * with. Their names are readable from now on.
 */
export class SealedEndpointHeaders1765000000000 implements MigrationInterface {
  name = 'SealedEndpointHeaders1765000000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE endpoints ADD COLUMN sealed_headers text NULL;
      ALTER TABLE endpoints ADD COLUMN header_names jsonb NOT NULL DEFAULT '[]';
      UPDATE endpoints SET header_names = (SELECT coalesce(jsonb_agg(k ORDER BY k), '[]'::jsonb) FROM jsonb_object_keys(headers) k)
      WHERE headers <> '{}'::jsonb;
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    // Sealed headers cannot be opened in SQL: going down loses them, as the column does.
    await q.query('ALTER TABLE endpoints DROP COLUMN sealed_headers, DROP COLUMN header_names');
  }
}
