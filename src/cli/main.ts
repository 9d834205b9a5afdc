import { ProvenantError } from '../errors.ts';
import { commandNamedIn, loadCommands } from './commands/index.ts';
import { processOutput, type Output } from './output.ts';
import { runProgram } from './program.ts';
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
  // Commander reads program options after the subcommand too: a program-level --version would
  // swallow `download --version 1.2.3`. It exists only when no subcommand is named.
  const version = commandNamedIn(argv) === undefined ? packageJson.version : undefined;
  return runProgram(argv, await loadCommands(argv), { description: DESCRIPTION, after: FLOW, ...(version !== undefined ? { version } : {}) }, out, env, cwd);
}

export { ProvenantError };
