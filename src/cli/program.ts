import { Command, CommanderError } from 'commander';
import { makeContext, type RegisterCommand } from './context.ts';
import { processOutput, renderError, type Output } from './output.ts';
import { redactCredentials } from '../util/redact-credentials.ts';

export interface ProgramText {
  description: string;
  /** Shown after the program's --help. */
  after?: string;
  /** `-V, --version` is offered only when given (see main.ts: it would swallow `download --version`). */
  version?: string;
}

/**
 * Runs a commander program made of `registers` and returns the exit code. Shared by the full CLI
 * (main.ts) and the single-executable downloader (download-main.ts), which must not reach the
 * other commands' loaders: a bundler would pull all of them in.
 */
export async function runProgram(
  argv: string[],
  registers: readonly RegisterCommand[],
  text: ProgramText,
  given: Output = processOutput,
  env = process.env,
  cwd = process.cwd(),
): Promise<number> {
  const out = redacting(given);
  const ctx = makeContext(out, env, cwd);
  const program = new Command('provenant')
    .description(text.description)
    .option('-v, --verbose', 'more detail on stderr (repeat for more: -vv)', (_v: string, prev: number) => prev + 1, 0)
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({ writeOut: (s) => out.stdout(s), writeErr: (s) => out.stderr(s) })
    .exitOverride();
  if (text.after) program.addHelpText('after', text.after);
  if (text.version !== undefined) program.version(text.version, '-V, --version', 'print the version of provenant');
  for (const register of registers) register(program, ctx);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return ctx.exitCode;
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help and version are successful exits; anything else commander reports is a usage error.
      return err.exitCode === 0 ? 0 : 2;
    }
    const opts = { verbose: program.opts<{ verbose: number }>().verbose, json: argv.includes('--json') };
    return renderError(out, err, opts);
  }
}

/** Everything a command writes, logs and JSON included, without the credentials a URL may carry. */
function redacting(out: Output): Output {
  return {
    stdout: (t) => out.stdout(redactCredentials(t)),
    stderr: (t) => out.stderr(redactCredentials(t)),
    get interactive() {
      return out.interactive;
    },
  };
}
