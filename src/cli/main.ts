import { Command, CommanderError } from 'commander';
import { ProvenantError } from '../errors.ts';
import { makeContext } from './context.ts';
import { commandNamedIn, loadCommands } from './commands/index.ts';
import { processOutput, renderError, type Output } from './output.ts';
import packageJson from '../../package.json' with { type: 'json' };

const DESCRIPTION = 'Build, attest, sign, publish and verify Python integration wheels.';

const FLOW = `
Typical flow (repository in ./repository, keys in ./keys, integrations in the current
directory or else the bundled examples):
  provenant release --all               build, attest, sign, publish, test-download each one
  provenant download datadog-postgres --root keys/root.json
                                        verify and fetch a wheel; prints its path
  provenant serve                       then: pip install --index-url http://127.0.0.1:8000/simple/ datadog-postgres

Step by step: repo init, then build, sign, publish. Every command has --help with examples,
--json for machines and -v for detail. Exit codes: docs/exit-codes.md.`;

/** Runs the CLI in-process and returns the exit code (tests call this directly). */
export async function main(argv: string[], out: Output = processOutput, env = process.env, cwd = process.cwd()): Promise<number> {
  const ctx = makeContext(out, env, cwd);
  const program = new Command('provenant')
    .description(DESCRIPTION)
    .addHelpText('after', FLOW)
    .option('-v, --verbose', 'more detail on stderr (repeat for more: -vv)', (_v: string, prev: number) => prev + 1, 0)
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({ writeOut: (s) => out.stdout(s), writeErr: (s) => out.stderr(s) })
    .exitOverride();
  // Commander reads program options after the subcommand too: a program-level --version would
  // swallow `download --version 1.2.3`. It exists only when no subcommand is named.
  if (commandNamedIn(argv) === undefined) program.version(packageJson.version, '-V, --version', 'print the version of provenant');
  for (const register of await loadCommands(argv)) register(program, ctx);
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

export { ProvenantError };
