// Entry of the single-executable downloader (dist/provenant-download, docs/downloader-binary.md):
// `provenant-download <project> [options]` is `provenant download <project> [options]`, with
// only the download command's code inside. No top-level await: the bundle is CommonJS, which
// is what a Node 24 single-executable application (and its snapshot builder) runs.
import v8 from 'node:v8';
import { register } from './commands/download.ts';
import { exitQuietlyOnClosedPipes } from './output.ts';
import { runProgram } from './program.ts';

const DESCRIPTION = 'Download a wheel from a provenant repository and verify it (the `provenant download` command, on its own).';

/** Runs the downloader with `argv` (no program name, no `download`) and returns the exit code. */
function downloadMain(argv: string[]): Promise<number> {
  return runProgram(['download', ...argv], [register], { description: DESCRIPTION });
}

function start(argv: string[]): void {
  exitQuietlyOnClosedPipes();
  downloadMain(argv).then(
    (code) => (process.exitCode = code),
    (e: unknown) => {
      process.stderr.write(`provenant-download: ${String((e as Error)?.stack ?? e)}\n`);
      process.exitCode = 70;
    },
  );
}

// Built into the executable as a V8 startup snapshot, this module and everything it imports are
// loaded and initialised once, at build time; each run starts from that heap (measured in
// docs/downloader-binary.md). Without a snapshot (`node download-main.cjs …`) it simply runs.
if (v8.startupSnapshot.isBuildingSnapshot()) {
  // A snapshot's main gets no script path in argv ([node, ...arguments]) unless it runs as the
  // single executable, which repeats the executable's path in its place.
  v8.startupSnapshot.setDeserializeMainFunction(() => start(process.argv.slice(process.getBuiltinModule('node:sea').isSea() ? 2 : 1)));
} else {
  start(process.argv.slice(2));
}
