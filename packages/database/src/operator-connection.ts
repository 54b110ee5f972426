import { DataSource } from 'typeorm';
import type { PostgresConnectionOptions } from 'typeorm/driver/postgres/PostgresConnectionOptions';
import { dataSourceOptions, migrate } from './data-source';

/** The URL with its password hidden, for messages. */
export function describeDatabase(databaseUrl: string): string {
  try {
    const url = new URL(databaseUrl);
    if (url.password) url.password = '***';
    return url.toString();
  } catch {
    return 'the configured database';
  }
}

/** pg's reason for a failure; Node's AggregateError (every address refused) has an empty message. */
export function failureReason(err: unknown): string {
  if (err instanceof AggregateError && err.errors.length > 0) return [...new Set(err.errors.map(failureReason))].join('; ');
  if (err instanceof Error) return err.message || (err as { code?: string }).code || err.name;
  return String(err);
}

/**
 * For operator commands (`tocsin admin …`, `npm run rebuild-projections`): connects to
 * `databaseUrl` (giving up after `connectTimeoutMs`), applies pending migrations like the
 * apps do at boot, runs `work` and disconnects. A failed step throws `fail(message)`, the
 * message naming the database (without its password), the step and the reason.
 */
export async function withOperatorDatabase<T>(
  databaseUrl: string,
  work: (dataSource: DataSource) => Promise<T>,
  fail: (message: string, cause: unknown) => Error,
  connectTimeoutMs = 10_000,
): Promise<T> {
  const where = describeDatabase(databaseUrl);
  const options: PostgresConnectionOptions = { ...(dataSourceOptions(databaseUrl, 2) as PostgresConnectionOptions), connectTimeoutMS: connectTimeoutMs };
  const dataSource = new DataSource(options);
  try {
    await dataSource.initialize();
  } catch (err) {
    throw fail(`cannot connect to the database at ${where}: ${failureReason(err)}`, err);
  }
  try {
    try {
      await migrate(databaseUrl);
    } catch (err) {
      throw fail(`cannot migrate the database at ${where}: ${failureReason(err)}`, err);
    }
    return await work(dataSource);
  } finally {
    await dataSource.destroy();
  }
}
