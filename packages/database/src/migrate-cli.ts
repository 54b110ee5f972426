/**
 * `node packages/database/dist/migrate-cli.js`: applies pending migrations and exits, for
 * a pre-deploy job when apps run with TOCSIN_MIGRATE_ON_BOOT=false.
 */
import { prepareDatabase } from './data-source';

const url = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/tocsin';

prepareDatabase(url).then(
  (applied) => {
    process.stdout.write(applied.length ? `applied: ${applied.join(', ')}\n` : 'schema is up to date\n');
  },
  (err: Error) => {
    process.stderr.write(`migration failed: ${err.message}\n`);
    process.exit(1);
  },
);
