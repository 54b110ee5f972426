import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { dataSourceOptions, prepareDatabase } from '@tocsin/database';

export interface TestDatabase {
  readonly url: string;
  drop(): Promise<void>;
}

export const DEFAULT_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/tocsin';

/** A fresh, migrated database per test file, so tests never see each other's rows. */
export async function createTestDatabase(baseUrl = process.env.DATABASE_URL ?? DEFAULT_DATABASE_URL): Promise<TestDatabase> {
  const url = new URL(baseUrl);
  const name = `tocsin_test_${randomBytes(5).toString('hex')}`;
  url.pathname = `/${name}`;
  await prepareDatabase(url.toString());
  return {
    url: url.toString(),
    drop: async () => {
      const admin = new URL(baseUrl);
      admin.pathname = '/postgres';
      const client = new Client({ connectionString: admin.toString() });
      await client.connect();
      try {
        await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      } finally {
        await client.end();
      }
    },
  };
}

export interface TestDataSource extends TestDatabase {
  readonly dataSource: DataSource;
}

/** A fresh, migrated database with a TypeORM DataSource of `poolSize` connections on it; drop() closes both. */
export async function createTestDataSource(poolSize = 2): Promise<TestDataSource> {
  const db = await createTestDatabase();
  const dataSource = await new DataSource(dataSourceOptions(db.url, poolSize)).initialize();
  return {
    url: db.url,
    dataSource,
    drop: async () => {
      await dataSource.destroy();
      await db.drop();
    },
  };
}
