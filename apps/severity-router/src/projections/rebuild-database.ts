import { DataSource } from 'typeorm';
import type { PostgresConnectionOptions } from 'typeorm/driver/postgres/PostgresConnectionOptions';
import { dataSourceOptions, migrate } from '@tocsin/database';
import { rebuildProjections, type RebuildOutcome } from './rebuild-projections';

export interface DatabaseRebuild extends RebuildOutcome {
  /** How long the rebuild transaction took, without connecting and migrating. */
  readonly durationMs: number;
}

/** Refusals an operator can act on; the message names the database (without its password) and the reason. */
export class RebuildFailedError extends Error {
  override readonly name = 'RebuildFailedError';
}

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

/** pg's reason for a failed connection; Node's AggregateError (every address refused) has an empty message. */
function reason(err: unknown): string {
  if (err instanceof AggregateError && err.errors.length > 0) return [...new Set(err.errors.map(reason))].join('; ');
  if (err instanceof Error) return err.message || (err as { code?: string }).code || err.name;
  return String(err);
}

/**
 * What `npm run rebuild-projections` and `tocsin admin rebuild-projections` run: connects
 * to `databaseUrl` (giving up after `connectTimeoutMs`), applies pending migrations like
 * the apps do at boot, rebuilds the projections in one transaction and disconnects.
 * Failures are RebuildFailedErrors saying which step failed; the projections are
 * untouched unless the rebuild committed.
 */
export async function rebuildDatabaseProjections(databaseUrl: string, connectTimeoutMs = 10_000): Promise<DatabaseRebuild> {
  const where = describeDatabase(databaseUrl);
  const options: PostgresConnectionOptions = { ...(dataSourceOptions(databaseUrl, 2) as PostgresConnectionOptions), connectTimeoutMS: connectTimeoutMs };
  const dataSource = new DataSource(options);
  try {
    await dataSource.initialize();
  } catch (err) {
    throw new RebuildFailedError(`cannot connect to the database at ${where}: ${reason(err)}`, { cause: err });
  }
  try {
    try {
      await migrate(databaseUrl);
    } catch (err) {
      throw new RebuildFailedError(`cannot migrate the database at ${where}: ${reason(err)}`, { cause: err });
    }
    const started = Date.now();
    try {
      const outcome = await rebuildProjections(dataSource);
      return { ...outcome, durationMs: Date.now() - started };
    } catch (err) {
      throw new RebuildFailedError(`rebuilding the projections at ${where} failed, they are unchanged: ${reason(err)}`, { cause: err });
    }
  } finally {
    await dataSource.destroy();
  }
}
