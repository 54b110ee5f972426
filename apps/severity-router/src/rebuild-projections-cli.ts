import 'reflect-metadata';
import { DataSource } from 'typeorm';
import { loadConfig } from '@tocsin/config';
import { dataSourceOptions, migrate } from '@tocsin/database';
import { rebuildProjections } from './projections/rebuild-projections';

/** `npm run rebuild-projections`: rebuilds the incidents and maintenance read models from the event store. */
async function main(): Promise<void> {
  const config = loadConfig(process.env);
  await migrate(config.DATABASE_URL);
  const dataSource = new DataSource(dataSourceOptions(config.DATABASE_URL, 2));
  await dataSource.initialize();
  try {
    const started = Date.now();
    const outcome = await rebuildProjections(dataSource);
    process.stdout.write(`rebuilt ${outcome.tables.join(', ')} from ${outcome.events} events in ${Date.now() - started} ms\n`);
  } finally {
    await dataSource.destroy();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`rebuild-projections failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
