// `npm run build:downloader`: dist/provenant-download, the downloader as one executable that
// needs no Node on the host (docs/downloader-binary.md). Three steps, all from node_modules:
// esbuild bundles src/cli/download-main.ts into one CommonJS file; Node 24's
// --experimental-sea-config turns it into a blob; postject injects the blob into a copy of the
// `node` package's binary. Same inputs give the same bytes,
// start-up snapshot included (test/downloader-binary/reproducible.test.ts).
//
// usage: node scripts/build-downloader.ts [--out FILE] [--no-cache] [--no-snapshot]
// --no-snapshot: no V8 start-up snapshot, ~200 ms slower per run (docs/downloader-binary.md).
// Built executables are kept in .tmp/downloader-cache by the hash of their inputs, so tests and
// repeated builds cost one bundling (~1 s) and a copy.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmod, copyFile, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { promisify } from 'node:util';
import * as esbuild from 'esbuild';
import { withFileLock } from '../src/storage/file-lock.ts';
import { sha256Hex } from '../src/util/hash.ts';

const ROOT = path.resolve(import.meta.dirname, '..');
const NODE_BINARY = createRequire(import.meta.url).resolve('node/bin/node');
/** Node's fixed marker telling a binary that a SEA blob is present (docs: single-executable-applications). */
const SEA_FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';
export const DEFAULT_OUT = path.join(ROOT, 'dist/provenant-download');
const CACHE_DIR = path.join(ROOT, '.tmp/downloader-cache');
/** Not os.tmpdir(): TMPDIR would change the paths the snapshot keeps. */
const BUILD_PARENT = '/tmp';
const BUILD_LOCK_TIMEOUT_MS = 5 * 60_000;
/** Node and V8 options every run of the executable starts with (docs/downloader-binary.md). */
export const EXEC_ARGV: string[] = [];

/**
 * V8 options of the process that builds the snapshot, never of the executable: without them two
 * builds differ in the hash seed and the random seed the heap was built with (the same choice as
 * Node's own `--build-snapshot`). Each run of the executable still rehashes with a fresh seed and
 * reseeds Math.random: Node refuses to write a snapshot V8 cannot rehash (docs/downloader-binary.md).
 */
export const SNAPSHOT_BUILD_FLAGS = ['--predictable', '--random-seed=42', '--hash-seed=42'];

/**
 * First lines of the bundle. The snapshot keeps the builder's process.pid and process.ppid (and the
 * pid inside the text of any warning printed while building); Node sets both again when an
 * executable starts, so the values frozen into the heap are never seen: make them 0.
 */
const SNAPSHOT_BANNER = "if(require('node:v8').startupSnapshot.isBuildingSnapshot())for(const k of ['pid','ppid'])Object.defineProperty(process,k,{...Object.getOwnPropertyDescriptor(process,k),value:0});";

/** Modules the bundle replaces: the AWS SDK stays out (s3:// is refused with E_S3_UNSUPPORTED_BINARY). */
const REPLACED: Record<string, string> = {
  [path.join(ROOT, 'src/storage/s3-fetcher.ts')]: path.join(ROOT, 'src/storage/s3-fetcher-unsupported.ts'),
};

const replaceModules: esbuild.Plugin = {
  name: 'provenant-replace',
  setup(build) {
    build.onResolve({ filter: /s3-fetcher\.ts$/ }, (args) => {
      const resolved = path.resolve(args.resolveDir, args.path);
      return REPLACED[resolved] ? { path: REPLACED[resolved] } : undefined;
    });
    // createRequire(import.meta.url) has no meaning in a CommonJS bundle (import.meta is empty);
    // the bundle's own require resolves, and bundles, the same modules.
    build.onLoad({ filter: /src\/verify\/tuf-models-verify-cache\.ts$/ }, async (args) => ({
      contents: (await readFile(args.path, 'utf8')).replace('const require = createRequire(import.meta.url);', ''),
      loader: 'ts',
    }));
  },
};

/** The downloader's code as one CommonJS file (what a Node 24 SEA runs as its main script). */
export async function bundle(): Promise<{ code: Uint8Array; inputs: string[] }> {
  const r = await esbuild.build({
    absWorkingDir: ROOT,
    entryPoints: ['src/cli/download-main.ts'],
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node24',
    minify: true,
    // Error classes are matched by name in places (ProvenantError).
    keepNames: true,
    legalComments: 'none',
    banner: { js: SNAPSHOT_BANNER },
    // Signing only (native PKCS#11 addon): never reached by a download, left out of the bundle.
    external: ['pkcs11js', '@aws-sdk/*'],
    plugins: [replaceModules],
    write: false,
    metafile: true,
    logLevel: 'error',
  });
  return { code: r.outputFiles[0]!.contents, inputs: Object.keys(r.metafile.inputs) };
}

const run = promisify(execFile);

/** Builds the executable at `out`; returns the sha256 of its bytes. */
export async function buildDownloader(out = DEFAULT_OUT, opts: { cache?: boolean; snapshot?: boolean; execArgv?: string[] } = {}): Promise<string> {
  const execArgv = opts.execArgv ?? EXEC_ARGV;
  const { code } = await bundle();
  const self = await readFile(new URL(import.meta.url));
  const nodeVersion = (await run(NODE_BINARY, ['--version'])).stdout.trim();
  const key = createHash('sha256').update(code).update(self).update(nodeVersion).update(opts.snapshot === false ? 'no-snapshot' : 'snapshot').update(JSON.stringify(execArgv)).digest('hex').slice(0, 32);
  const cached = path.join(CACHE_DIR, key);
  await mkdir(path.dirname(out), { recursive: true });
  const fromCache = opts.cache === false ? async () => undefined : () => copyCached(cached, out);
  const hit = await fromCache();
  if (hit) return hit;
  // The snapshot keeps absolute paths: the main script's and the node binary's that builds it.
  // Both sit in one fixed directory, named by the inputs' hash and not by the checkout, the
  // process or TMPDIR, so that any checkout builds the same bytes; the lock keeps two builds of
  // the same inputs (two checkouts, two test runs) out of each other's directory.
  const work = path.join(BUILD_PARENT, `provenant-sea-build-${key}`);
  // A build that waited for the lock finds what the one before it just cached.
  return withFileLock(`${work}.lock`, async () => (await fromCache()) ?? buildIn(work, code, out, cached, opts.snapshot !== false, execArgv), BUILD_LOCK_TIMEOUT_MS);
}

/** The cached executable copied to `out` (its sha256), or undefined when there is none yet. */
async function copyCached(cached: string, out: string): Promise<string | undefined> {
  try {
    await copyFile(cached, `${out}.tmp`);
    await rename(`${out}.tmp`, out);
    return sha256Hex(await readFile(out));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    return undefined;
  }
}

async function buildIn(work: string, code: Uint8Array, out: string, cached: string, snapshot: boolean, execArgv: string[]): Promise<string> {
  await rm(work, { recursive: true, force: true });
  await mkdir(work, { recursive: true });
  try {
    const main = path.join(work, 'provenant-download.cjs');
    const blob = path.join(work, 'sea.blob');
    await writeFile(main, code);
    // Relative paths: the blob records the main script's path as given, and a build directory's
    // name must not make two builds differ.
    const config = {
      main: path.basename(main),
      output: path.basename(blob),
      disableExperimentalSEAWarning: true,
      // Measured in docs/downloader-binary.md: the snapshot cuts a run's CPU by about a third, a code cache adds nothing.
      useCodeCache: false,
      useSnapshot: snapshot,
      execArgv,
    };
    await writeFile(path.join(work, 'sea-config.json'), JSON.stringify(config));
    const builder = path.join(work, 'node');
    await copyFile(NODE_BINARY, builder);
    await run(builder, [...SNAPSHOT_BUILD_FLAGS, '--experimental-sea-config', 'sea-config.json'], { cwd: work });
    const exe = path.join(work, 'provenant-download');
    await copyFile(NODE_BINARY, exe);
    const { inject } = createRequire(import.meta.url)('postject') as { inject(file: string, name: string, data: Buffer, o: { sentinelFuse: string }): Promise<void> };
    await inject(exe, 'NODE_SEA_BLOB', await readFile(blob), { sentinelFuse: SEA_FUSE });
    await chmod(exe, 0o755);
    await mkdir(CACHE_DIR, { recursive: true });
    await copyFile(exe, `${cached}.tmp`);
    await rename(`${cached}.tmp`, cached);
    await rename(exe, `${out}.tmp`).catch(async () => copyFile(exe, `${out}.tmp`));
    await rename(`${out}.tmp`, out);
    return sha256Hex(await readFile(out));
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}


if (import.meta.main) {
  const args = process.argv.slice(2);
  const outAt = args.indexOf('--out');
  const out = outAt >= 0 ? path.resolve(args[outAt + 1]!) : DEFAULT_OUT;
  const t0 = performance.now();
  const argvAt = args.indexOf('--exec-argv');
  const execArgv = argvAt >= 0 ? args[argvAt + 1]!.split(' ').filter(Boolean) : undefined;
  const digest = await buildDownloader(out, { cache: !args.includes('--no-cache'), snapshot: !args.includes('--no-snapshot'), ...(execArgv ? { execArgv } : {}) });
  process.stdout.write(`${path.relative(process.cwd(), out)} sha256 ${digest} (${((performance.now() - t0) / 1000).toFixed(1)} s)\n`);
}
