import { describeDatabase, failureReason, withOperatorDatabase } from '@tocsin/database';
import { rebuildProjections, type RebuildOutcome } from './rebuild-projections';

export { describeDatabase };

export interface DatabaseRebuild extends RebuildOutcome {
  /** How long the rebuild transaction took, without connecting and migrating. */
  readonly durationMs: number;
}

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
  const fail = (message: string, cause: unknown) => new RebuildFailedError(message, { cause });
  return withOperatorDatabase(
    databaseUrl,
    async (dataSource) => {
      const started = Date.now();
      try {
        const outcome = await rebuildProjections(dataSource);
        return { ...outcome, durationMs: Date.now() - started };
      } catch (err) {
        throw fail(`rebuilding the projections at ${describeDatabase(databaseUrl)} failed, they are unchanged: ${failureReason(err)}`, err);
      }
    },
    fail,
    connectTimeoutMs,
  );
}
