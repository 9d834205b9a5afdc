// Entry of the single-executable downloader (dist/provenant-download, docs/downloader-binary.md):
// `provenant-download <project> [options]` is `provenant download <project> [options]`, with
// only the download command's code inside. No top-level await: the bundle is CommonJS, which
// is what a Node single-executable application runs.
import { register } from './commands/download.ts';
import { exitQuietlyOnClosedPipes } from './output.ts';
import { runProgram } from './program.ts';

const DESCRIPTION = 'Download a wheel from a provenant repository and verify it (the `provenant download` command, on its own).';

/** Runs the downloader with `argv` (no program name, no `download`) and returns the exit code. */
export function downloadMain(argv: string[]): Promise<number> {
  return runProgram(['download', ...argv], [register], { description: DESCRIPTION });
}

exitQuietlyOnClosedPipes();
downloadMain(process.argv.slice(2)).then(
  (code) => (process.exitCode = code),
  (e: unknown) => {
    process.stderr.write(`provenant-download: ${String((e as Error)?.stack ?? e)}\n`);
    process.exitCode = 70;
  },
);
