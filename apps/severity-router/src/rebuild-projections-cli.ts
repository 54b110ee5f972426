import 'reflect-metadata';
import { loadConfig } from '@tocsin/config';
import { rebuildDatabaseProjections } from './projections/rebuild-database';

/**
 * `npm run rebuild-projections`: rebuilds the incidents and maintenance read models from
 * the event store (`tocsin admin rebuild-projections` runs the same).
 */
async function main(): Promise<void> {
  const config = loadConfig(process.env);
  const outcome = await rebuildDatabaseProjections(config.DATABASE_URL);
  process.stdout.write(`rebuilt ${outcome.tables.join(', ')} from ${outcome.events} events in ${outcome.durationMs} ms\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`rebuild-projections failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
