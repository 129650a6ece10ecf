/**
 * The `imagekit` command: a thin front over the library. Each command lives in its own file under
 * `commands/` and registers itself on the program; this file only wires them and maps errors to the
 * imager's exit codes (talos-imager.md §0): `imagekit: <message>` on stderr, exit with `exitCode`.
 */
import { Command, CommanderError } from 'commander';
import { toImagekitError } from '../core/errors.js';
import { commands } from './commands/index.js';

export function createProgram(): Command {
  const program = new Command('imagekit')
    .description('Build Talos Linux boot assets without Docker, root or native tools')
    .version(PACKAGE_VERSION, '--version-info', 'print the imagekit version')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  for (const register of commands) register(program);
  return program;
}

declare const PACKAGE_VERSION_INJECTED: string | undefined;
const PACKAGE_VERSION = typeof PACKAGE_VERSION_INJECTED === 'string' ? PACKAGE_VERSION_INJECTED : '0.1.0';

export async function main(argv: string[]): Promise<number> {
  const program = createProgram();
  try {
    await program.parseAsync(argv);
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help / --version exit 0; usage errors are invalid input (exit 2).
      if (err.exitCode === 0) return 0;
      return 2;
    }
    const e = toImagekitError(err);
    process.stderr.write(`imagekit: ${e.message}\n`);
    if (process.env.IMAGEKIT_DEBUG && err instanceof Error && err.stack) process.stderr.write(err.stack + '\n');
    return e.exitCode;
  }
}
