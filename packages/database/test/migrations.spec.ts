import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { migrate, MIGRATIONS, prepareDatabase } from '../src';

const base = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/tocsin';

function databaseUrl(name: string): string {
  const url = new URL(base);
  url.pathname = `/${name}`;
  return url.toString();
}

describe('migrations on real Postgres', () => {
  const name = `tocsin_test_${randomBytes(5).toString('hex')}`;
  const db = { url: databaseUrl(name) };

  beforeAll(async () => {
    // The database does not exist yet: prepareDatabase creates it, then migrates.
    expect(await prepareDatabase(db.url)).toEqual(MIGRATIONS.map((m) => m.name));
  });

  afterAll(async () => {
    const admin = new Client({ connectionString: databaseUrl('postgres') });
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    await admin.end();
  });

  it('created every table, and a second run applies nothing', async () => {
    const client = new Client({ connectionString: db.url });
    await client.connect();
    try {
      const { rows } = await client.query("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename");
      expect(rows.map((r) => r.tablename)).toEqual(
        expect.arrayContaining(['events', 'outbox', 'consumer_offsets', 'monitors', 'endpoints', 'deliveries', 'incidents', 'tenants', 'api_keys', 'receivers', 'receiver_calls']),
      );
    } finally {
      await client.end();
    }
    expect(await migrate(db.url)).toEqual([]);
  });

  it('lets replicas migrate at the same time', async () => {
    await expect(Promise.all([prepareDatabase(db.url), prepareDatabase(db.url)])).resolves.toEqual([[], []]);
  });

  it('refuses a database name it cannot quote safely', async () => {
    await expect(prepareDatabase('postgres://postgres@127.0.0.1:5432/bad;name')).rejects.toThrow(/unusable database/);
  });
});
