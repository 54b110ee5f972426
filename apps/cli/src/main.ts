import { CommanderError } from 'commander';
import { describeError, EXIT } from './context';
import { buildProgram } from './program';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { version } = require('../package.json') as { version: string };

/** Exit 0 on success, 1 when the API refused (or could not be reached), 2 on bad usage. */
export async function main(argv: readonly string[]): Promise<number> {
  try {
    await buildProgram(version).parseAsync([...argv]);
    return EXIT.ok;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? EXIT.ok : EXIT.usage;
    const { message, code } = describeError(err);
    process.stderr.write(`error: ${message}\n`);
    return code;
  }
}
