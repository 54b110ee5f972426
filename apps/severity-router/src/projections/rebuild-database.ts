import { describeDatabase, withOperatorDatabase, type OperatorStep } from '@tocsin/database';
import { rebuildProjections, type RebuildOutcome } from './rebuild-projections';

export { describeDatabase };

/** The rebuild's outcome; `durationMs` is the rebuild transaction's alone. */
export type DatabaseRebuild = RebuildOutcome & OperatorStep;

/** Refusals an operator can act on; the message names the database (without its password) and the reason. */
export class RebuildFailedError extends Error {
  override readonly name = 'RebuildFailedError';
}

/**
 * What `npm run rebuild-projections` and `tocsin admin rebuild-projections` run: connects
 * to `databaseUrl` (giving up after `connectTimeoutMs`), applies pending migrations like
 * the apps do at boot, rebuilds the projections in one transaction and disconnects.
 * Failures are RebuildFailedErrors saying which step failed; the projections are
 * untouched unless the rebuild committed.
 */
export async function rebuildDatabaseProjections(databaseUrl: string, connectTimeoutMs = 10_000): Promise<DatabaseRebuild> {
  return withOperatorDatabase(
    databaseUrl,
    rebuildProjections,
    (where) => `rebuilding the projections at ${where} failed, they are unchanged`,
    (message, cause) => new RebuildFailedError(message, { cause }),
    connectTimeoutMs,
  );
}
