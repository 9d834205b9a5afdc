import path from 'node:path';
import { Option } from 'commander';
import { startServer } from '../../app/serve.ts';
import { ProvenantError } from '../../errors.ts';
import type { RegisterCommand } from '../context.ts';
import { printJson } from '../output.ts';

const HELP = `
Serves a local repository read-only over HTTP, the way a real index host would: PEP 503 HTML
and PEP 691 JSON pages (chosen by the Accept header), PEP 658 .metadata files, wheels, pointers,
attestations and TUF metadata. One log line per request goes to stderr. Stop it with Ctrl-C.

It never serves keys: it will not start on a directory that is inside a key store or holds one
(--keys, or any subdirectory with a keys.json), and it refuses (403) any .pem or .key file, any
file holding a PEM private key, and anything inside a key store, all by real path.

pip through serve checks only the index's sha256 of each wheel; \`provenant download\` is the
verified path (TUF, signed provenance, policy).

Examples:
  provenant serve                                   ./repository on http://127.0.0.1:8000/
  provenant serve --repository /srv/repo --port 0   any free port; the URL is printed
  pip install --index-url http://127.0.0.1:8000/simple/ datadog-postgres
`;

export const register: RegisterCommand = (program, ctx) => {
  program
    .command('serve')
    .description('serve a local repository (simple index, wheels, TUF metadata) over HTTP on loopback')
    .option('--repository <dir>', 'repository directory', 'repository')
    .addOption(new Option('--port <n>', 'TCP port; 0 picks a free one').default(8000).argParser(parsePort))
    .option('--host <address>', 'address to bind; anything but loopback exposes the repository to the network', '127.0.0.1')
    .option('--keys <dir>', 'the key store: serving a directory that holds it is refused', 'keys')
    .option('--json', 'print {url, indexUrl, repository} on stdout once listening')
    .addHelpText('after', HELP)
    .action(async (opts: { repository: string; port: number; host: string; keys: string }, cmd) => {
      const g = ctx.globals(cmd);
      const reporter = ctx.reporter(cmd);
      const root = path.resolve(ctx.cwd, opts.repository);
      const server = await startServer({ root, port: opts.port, host: opts.host, keysDir: path.resolve(ctx.cwd, opts.keys), log: (line) => ctx.out.stderr(`${line}\n`) });
      if (g.json) printJson(ctx.out, { ok: true, url: server.url, indexUrl: server.indexUrl, repository: root });
      reporter.info(`Serving ${root} at ${server.url}`);
      reporter.info(`  pip install --index-url ${server.indexUrl} <project>`);
      const why = await untilStopped();
      await server.close();
      reporter.info(`stopped (${why})`);
    });
};

/** How often serve checks that the process that started it is still there. */
const PARENT_POLL_MS = 250;

/**
 * Resolves on Ctrl-C, on SIGTERM, or once the parent process is gone. `npx provenant serve`
 * runs us under npm's `sh -c`: a SIGTERM to npx is passed to that shell, which dies without
 * passing it on, and the server would go on listening as an orphan. Being re-parented is
 * how that shows here (nothing is delivered to us), so it stops the server like SIGTERM.
 */
function untilStopped(): Promise<string> {
  const parent = process.ppid;
  return new Promise((resolve) => {
    const stop = (why: string) => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      clearInterval(watch);
      resolve(why);
    };
    const onSignal = (signal: NodeJS.Signals) => stop(signal);
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    const watch = setInterval(() => {
      if (process.ppid !== parent) stop(`parent process ${parent} exited`);
    }, PARENT_POLL_MS);
  });
}

function parsePort(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n > 65535) {
    throw new ProvenantError('E_USAGE', `--port must be an integer from 0 to 65535, not "${value}"`, {
      exitClass: 'usage',
      field: '--port',
      hint: 'e.g. --port 8000, or --port 0 for any free port',
    });
  }
  return n;
}
