import type { Command } from 'commander';
import type { Reporter } from '../reporter.ts';
import { cliReporter, type GlobalOptions, type Output } from './output.ts';

/** What every command module gets: where to write, and how to read the global flags. */
export interface CliContext {
  out: Output;
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** Global options merged with the command's own (--json is per command, -v global). */
  globals(cmd: Command): GlobalOptions;
  reporter(cmd: Command): Reporter;
  /** Exit code for a command that already printed its own (failed) result document. */
  exitCode: number;
}

export function makeContext(out: Output, env: NodeJS.ProcessEnv, cwd: string): CliContext {
  const globals = (cmd: Command): GlobalOptions => {
    const all = cmd.optsWithGlobals() as { verbose?: number; json?: boolean };
    return { verbose: all.verbose ?? 0, json: Boolean(all.json) };
  };
  return { out, env, cwd, globals, reporter: (cmd) => cliReporter(out, globals(cmd)), exitCode: 0 };
}

/** A command module: adds its subcommand to the program. */
export type RegisterCommand = (program: Command, ctx: CliContext) => void;
