import type { Command } from 'commander';
import type { UnreadableSecret } from '@tocsin/delivery-queue';
import { Context, UsageError } from './context';

interface Resealed {
  readonly resealed: number;
  readonly unreadable: readonly UnreadableSecret[];
  readonly duration_ms: number;
}

interface Rebuilt {
  readonly tables: readonly string[];
  readonly events: number;
  readonly duration_ms: number;
}

/**
 * The Postgres an operator command works on: `--database-url`, else DATABASE_URL, else
 * the local default the apps use. Anything but a postgres:// URL is bad usage.
 */
export async function databaseUrl(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const [value, source] =
    flag !== undefined
      ? [flag, '--database-url']
      : env.DATABASE_URL
        ? [env.DATABASE_URL, 'DATABASE_URL']
        : [(await import('@tocsin/config')).DEFAULT_DATABASE_URL, 'the default database URL'];
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new UsageError(`${source} is not a URL: expected postgres://user[:password]@host[:port]/database`);
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
    throw new UsageError(`${source} must be a postgres:// URL, not ${url.protocol}//…`);
  }
  return value;
}

/** Commands for whoever runs Tocsin: they talk to Postgres directly, not to the API, and need no API key. */
export function admin(program: Command): void {
  const cmd = program.command('admin').description('operator commands on the database itself (DATABASE_URL), not through the API');
  cmd
    .command('rebuild-projections')
    .description(
      'empty the incidents and maintenance_periods read models and replay every monitor stream of the event store into them, ' +
        'in one transaction (pending migrations are applied first, as the apps do at boot)',
    )
    .option('--database-url <url>', 'Postgres to rebuild (default $DATABASE_URL, else postgres://postgres@127.0.0.1:5432/tocsin)')
    .action(async (opts: { databaseUrl?: string }, c: Command) => {
      const ctx = Context.of(c);
      const url = await databaseUrl(opts.databaseUrl);
      // Loaded here, not at start-up: the router brings Nest and TypeORM, which only this command needs.
      const { rebuildDatabaseProjections } = await import('@tocsin/severity-router');
      const outcome = await ctx.task('rebuilding projections', () => rebuildDatabaseProjections(url));
      const rebuilt: Rebuilt = { tables: outcome.tables, events: outcome.events, duration_ms: outcome.durationMs };
      ctx.show(rebuilt, { message: (r: Rebuilt) => `rebuilt ${r.tables.join(', ')} from ${r.events} events in ${r.duration_ms} ms` });
    });
  cmd
    .command('reseal')
    .description(
      'seal every secret column with the first key of TOCSIN_ENCRYPTION_KEY (monitor and endpoint headers, endpoint secrets ' +
        'and their previous secrets, receiver secrets), so an older key can be dropped; exits 1 when a row could not be opened',
    )
    .option('--database-url <url>', 'Postgres to re-seal (default $DATABASE_URL, else postgres://postgres@127.0.0.1:5432/tocsin)')
    .action(async (opts: { databaseUrl?: string }, c: Command) => {
      const ctx = Context.of(c);
      const url = await databaseUrl(opts.databaseUrl);
      const { SecretBox } = await import('@tocsin/secrets');
      const keys = process.env.TOCSIN_ENCRYPTION_KEY;
      if (!keys) throw new UsageError('TOCSIN_ENCRYPTION_KEY is not set: give the keys the apps run with, the new one first');
      let box: InstanceType<typeof SecretBox>;
      try {
        box = SecretBox.fromEnv(keys);
      } catch (err) {
        throw new UsageError((err as Error).message);
      }
      const { resealDatabase, describeUnreadable } = await import('@tocsin/delivery-queue');
      const outcome = await ctx.task('re-sealing secrets', () => resealDatabase(url, box, (row) => process.stderr.write(`warning: ${describeUnreadable(row)}\n`)));
      const report: Resealed = { resealed: outcome.resealed, unreadable: outcome.unreadable, duration_ms: outcome.durationMs };
      ctx.show(report, {
        message: (r: Resealed) =>
          `re-sealed ${r.resealed} row(s) with key ${box.currentKeyId} in ${r.duration_ms} ms` +
          (r.unreadable.length ? `; ${r.unreadable.length} row(s) could not be opened and were left as they are` : ''),
      });
      if (outcome.unreadable.length > 0) {
        throw new ResealIncomplete(`${outcome.unreadable.length} secret(s) could not be opened with TOCSIN_ENCRYPTION_KEY; keep the old key listed until they are fixed or replaced`);
      }
    });
}

/** Some rows stayed sealed with a key the command does not hold: the operator must not drop the old key yet. */
class ResealIncomplete extends Error {}
