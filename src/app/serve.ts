import { constants, existsSync } from 'node:fs';
import { open, readdir, realpath, stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { ProvenantError } from '../errors.ts';
import { SIMPLE_DIR } from '../formats/layout.ts';
import { normalizeProjectName } from '../formats/pep503.ts';
import { negotiateSimple, SIMPLE_MEDIA_TYPES } from '../simple-index/negotiate.ts';
import { isKeyStoreDir, KEY_FILE_NAME, KEY_SNIFF_BYTES, looksLikePrivateKey } from '../signers/key-store-location.ts';
import { objectPropsFor } from '../storage/object-props.ts';
import { isWithin, openedPath, realPathOf } from '../util/real-path.ts';

/**
 * `provenant serve`: a read-only HTTP server for a local repository directory, behaving like a
 * real index host: content types per object kind, PEP 691 negotiation between the HTML page and
 * its JSON twin on `/simple/` and `/simple/<project>/`, and one log line per request.
 *
 * It never serves keys. It refuses to start on a tree that is inside a key store, holds the
 * operator's key store (--keys) or has a key store (a directory with keys.json) among its
 * subdirectories, all by real path. Per request it answers 404 for paths whose real path leaves
 * the tree and 403 for anything inside a key store, any `.pem`/`.key` file, and any file whose
 * first 4 KiB hold a PEM private key block, judged by the file it has open (sendFile).
 */
export interface ServeOptions {
  /** The repository directory (the one holding `simple/` and `metadata/`). */
  root: string;
  /** 0 (the default) picks a free port. */
  port?: number;
  /** Default 127.0.0.1: serving beyond loopback is an explicit choice. */
  host?: string;
  /** Receives one line per request; default: stderr. */
  log?: (line: string) => void;
  /** The operator's key store: serving a tree that holds it is refused. */
  keysDir?: string;
}

export interface RunningServer {
  /** Base URL with a trailing slash, e.g. `http://127.0.0.1:8000/`. */
  url: string;
  /** `<url>simple/`: what pip's --index-url takes. */
  indexUrl: string;
  port: number;
  close(): Promise<void>;
}

export async function startServer(opts: ServeOptions): Promise<RunningServer> {
  const host = opts.host ?? '127.0.0.1';
  const log = opts.log ?? ((line: string) => void process.stderr.write(`${line}\n`));
  let root: string;
  try {
    root = await realpath(path.resolve(opts.root));
    if (!(await stat(root)).isDirectory()) throw new Error('not a directory');
  } catch {
    throw new ProvenantError('E_REPOSITORY_NOT_FOUND', `no repository directory at ${path.resolve(opts.root)}`, {
      exitClass: 'not-found',
      file: path.resolve(opts.root),
      hint: 'pass --repository DIR, or create one with `provenant repo init` and publish into it',
    });
  }
  await refuseKeyStores(root, opts.keysDir);
  const server = createServer((req, res) => {
    handle(root, req, res).then(
      (r) => log(logLine(req, r.status, r.contentType)),
      (err: unknown) => {
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
        res.end();
        log(`${logLine(req, 500, undefined)} error: ${err instanceof Error ? err.message : String(err)}`);
      },
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) =>
      reject(
        e.code === 'EADDRINUSE' || e.code === 'EACCES'
          ? new ProvenantError('E_SERVE_LISTEN', `cannot listen on ${host}:${opts.port ?? 0}: ${e.code}`, {
              exitClass: 'usage',
              field: '--port',
              hint: 'choose another --port (0 picks a free one)',
              cause: e,
            })
          : e,
      ),
    );
    server.listen(opts.port ?? 0, host, resolve);
  });
  const port = (server.address() as AddressInfo).port;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}/`;
  return {
    url,
    indexUrl: `${url}${SIMPLE_DIR}/`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        // pip keeps connections alive; without this close() would wait for them to time out.
        server.closeAllConnections();
      }),
  };
}

/** Starting on a tree that holds keys is refused: better no server than one that leaks a root key. */
async function refuseKeyStores(root: string, keysDir: string | undefined): Promise<void> {
  const refuse = (why: string, store: string) =>
    new ProvenantError('E_SERVE_KEY_STORE', `refusing to serve ${root}: ${why}`, {
      exitClass: 'usage',
      file: store,
      field: '--repository',
      hint: 'serve the repository directory itself (e.g. --repository ./repository), and keep key stores outside it',
    });
  for (let dir = root; ; dir = path.dirname(dir)) {
    if (await isKeyStoreDir(dir)) throw refuse(dir === root ? 'it is a key store' : `it is inside the key store ${dir}`, dir);
    if (path.dirname(dir) === dir) break;
  }
  if (keysDir !== undefined) {
    const keys = realPathOf(keysDir);
    if (existsSync(keys) && isWithin(root, keys)) throw refuse(`it holds the key store ${keys} (--keys)`, keys);
  }
  for (const e of await readdir(root, { withFileTypes: true })) {
    const dir = path.join(root, e.name);
    if ((e.isDirectory() || e.isSymbolicLink()) && (await isKeyStoreDir(dir))) throw refuse(`it holds the key store ${dir}`, dir);
  }
}

/** True when the real path `real` (inside `root`) is key material by place or name; its content is checked as it is sent. */
async function isKeyMaterial(root: string, real: string): Promise<boolean> {
  if (KEY_FILE_NAME.test(real)) return true;
  for (let dir = real; isWithin(root, dir); dir = path.dirname(dir)) {
    if (await isKeyStoreDir(dir)) return true;
    if (dir === root) break;
  }
  return false;
}

interface Outcome {
  status: number;
  contentType: string | undefined;
}

function logLine(req: IncomingMessage, status: number, contentType: string | undefined): string {
  const accept = req.headers.accept;
  return `${req.method ?? '?'} ${req.url ?? ''} ${status} ${contentType ?? '-'}${accept ? ` accept="${accept}"` : ''}`;
}

async function handle(root: string, req: IncomingMessage, res: ServerResponse): Promise<Outcome> {
  const send = (status: number, body: string, headers: Record<string, string> = {}): Outcome => {
    const contentType = 'text/plain; charset=utf-8';
    res.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(body), ...headers });
    res.end(req.method === 'HEAD' ? undefined : body);
    return { status, contentType };
  };
  if (req.method !== 'GET' && req.method !== 'HEAD') return send(405, 'method not allowed\n', { allow: 'GET, HEAD' });

  const raw = req.url ?? '/';
  const q = raw.indexOf('?');
  const rawPath = q < 0 ? raw : raw.slice(0, q);
  const query = new URLSearchParams(q < 0 ? '' : raw.slice(q + 1));
  if (!rawPath.startsWith('/')) return send(400, 'bad request path\n');
  let segments: string[];
  try {
    segments = rawPath.slice(1).split('/').map(decodeURIComponent);
  } catch {
    return send(400, 'bad percent-encoding in path\n');
  }
  const trailingSlash = segments.at(-1) === '';
  segments = segments.filter((s) => s !== '');
  // Checked on the decoded segments, so `%2e%2e` and `%2f` cannot smuggle a parent directory in.
  if (segments.some((s) => s === '.' || s === '..' || s.includes('/') || s.includes('\\') || s.includes('\0'))) {
    return send(403, 'path traversal refused\n');
  }
  // Hidden names are the storage backend's temp and lock files.
  if (segments.some((s) => s.startsWith('.'))) return send(404, 'not found\n');

  const fsPath = await insideRoot(root, path.join(root, ...segments));
  if (fsPath === undefined) return send(404, 'not found\n');
  if (await isKeyMaterial(root, fsPath)) return send(403, KEY_REFUSED);
  const info = await stat(fsPath).catch(() => undefined);
  const isSimplePage = segments[0] === SIMPLE_DIR && segments.length <= 2;

  if (!info) {
    // PEP 503: a repository may redirect a non-normalised project URL to the normalised one.
    if (isSimplePage && segments.length === 2) {
      const normalized = normalizeProjectName(segments[1] as string);
      if (normalized !== segments[1] && (await stat(path.join(root, SIMPLE_DIR, normalized)).catch(() => undefined))?.isDirectory()) {
        return send(301, 'moved\n', { location: `/${SIMPLE_DIR}/${encodeURIComponent(normalized)}/` });
      }
    }
    return send(404, 'not found\n');
  }
  if (info.isDirectory()) {
    if (!trailingSlash && segments.length > 0) {
      return send(301, 'moved\n', { location: `${rawPath}/${q < 0 ? '' : raw.slice(q)}` });
    }
    const dirKey = segments.join('/');
    if (isSimplePage) {
      // PEP 691 lets clients that cannot set headers ask through ?format=.
      const available = (['html', 'json'] as const).filter((f) => existsSync(path.join(fsPath, `index.${f}`)));
      if (available.length === 0) return send(404, 'not found\n');
      const rep = negotiateSimple(query.get('format') ?? req.headers.accept, available);
      if (!rep) {
        const types = SIMPLE_MEDIA_TYPES.filter((t) => available.some((f) => t.endsWith(f)));
        return send(406, `not acceptable; this page is available as:\n${types.join('\n')}\n`, { vary: 'Accept' });
      }
      const key = `${dirKey}/index.${rep.format}`;
      return sendFile(root, req, res, path.join(fsPath, `index.${rep.format}`), key, rep.contentType, { vary: 'Accept' });
    }
    const key = dirKey ? `${dirKey}/index.html` : 'index.html';
    return sendFile(root, req, res, path.join(fsPath, 'index.html'), key, undefined, {});
  }
  if (!info.isFile()) return send(404, 'not found\n');
  return sendFile(root, req, res, fsPath, segments.join('/'), undefined, {});
}

const KEY_REFUSED = 'forbidden: provenant serve never serves key material\n';

// O_NONBLOCK: a FIFO left in the tree opens at once (and is then refused as not a file) instead of
// blocking until a writer comes.
const OPEN_FLAGS = constants.O_RDONLY | (constants.O_NONBLOCK ?? 0);

/** The real path of `p` if it exists and stays under `root` (symlinks included), else undefined. */
async function insideRoot(root: string, p: string): Promise<string | undefined> {
  const real = await realpath(p).catch((e: NodeJS.ErrnoException) => (e.code === 'ENOENT' || e.code === 'ENOTDIR' ? p : undefined));
  return real !== undefined && isWithin(root, real) ? real : undefined;
}

/** Sends one file: only when its real path stays in `root` and it is not key material by place, name or content. */
async function sendFile(
  root: string,
  req: IncomingMessage,
  res: ServerResponse,
  file: string,
  key: string,
  contentType: string | undefined,
  extra: Record<string, string>,
): Promise<Outcome> {
  const plain = (status: number, body: string): Outcome => {
    res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(body), ...extra });
    res.end(req.method === 'HEAD' ? undefined : body);
    return { status, contentType: 'text/plain; charset=utf-8' };
  };
  // Opened first, checked after, by the file actually open: checking a path and then opening it
  // lets a symlink swapped in between (a directory flipped to ../keys) serve what was never checked.
  const fh = await open(file, OPEN_FLAGS).catch(() => undefined);
  if (!fh) return plain(404, 'not found\n');
  let streaming = false;
  try {
    const info = await fh.stat();
    const real = info.isFile() ? openedPath(fh.fd, file, info) : undefined;
    if (real === undefined || !isWithin(root, real)) return plain(404, 'not found\n');
    if (await isKeyMaterial(root, real)) return plain(403, KEY_REFUSED);
    const head = Buffer.alloc(Math.min(info.size, KEY_SNIFF_BYTES));
    await fh.read(head, 0, head.length, 0);
    if (looksLikePrivateKey(head)) return plain(403, KEY_REFUSED);
    const props = objectPropsFor(key);
    const type = contentType ?? props.contentType;
    res.writeHead(200, {
      'content-type': type,
      'content-length': info.size,
      'cache-control': props.cacheControl ?? 'no-cache',
      'x-content-type-options': 'nosniff',
      ...extra,
    });
    if (req.method === 'HEAD' || info.size === 0) {
      res.end();
    } else {
      streaming = true;
      await new Promise<void>((resolve, reject) => {
        // Reads the file already opened and sniffed, from its start: the bytes checked are the bytes sent.
        const stream = fh.createReadStream({ start: 0, end: info.size - 1, autoClose: true });
        stream.on('error', reject);
        res.on('close', () => {
          // A client that hangs up early must not leave the file open.
          stream.destroy();
          resolve();
        });
        stream.pipe(res);
      });
    }
    return { status: 200, contentType: type };
  } finally {
    if (!streaming) await fh.close();
  }
}
