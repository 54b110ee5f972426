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

/** What an operator command's step reports besides its own outcome. */
export interface OperatorStep {
  /** How long the step took, without connecting and migrating. */
  readonly durationMs: number;
}

/**
 * For operator commands (`tocsin admin …`, `npm run rebuild-projections`): connects to
 * `databaseUrl` (giving up after `connectTimeoutMs`), applies pending migrations like the
 * apps do at boot, runs and times `work`, and disconnects. Each failed step throws
 * `fail(message)`, the message naming the step, the database (without its password) and
 * the reason; `failed` says what a failure of `work` itself means (e.g. "rebuilding the
 * projections at <where> failed, they are unchanged").
 */
export async function withOperatorDatabase<T extends object>(
  databaseUrl: string,
  work: (dataSource: DataSource) => Promise<T>,
  failed: (where: string) => string,
  fail: (message: string, cause: unknown) => Error,
  connectTimeoutMs = 10_000,
): Promise<T & OperatorStep> {
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
    const started = Date.now();
    try {
      const outcome = await work(dataSource);
      return { ...outcome, durationMs: Date.now() - started };
    } catch (err) {
      throw fail(`${failed(where)}: ${failureReason(err)}`, err);
    }
  } finally {
    await dataSource.destroy();
  }
}
