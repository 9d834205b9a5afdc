/**
 * Fuzz target: the simple index's state, the PEP 691 JSON documents a publisher reads back
 * from the repository (anyone who can write the bucket controls them). The bytes are stored as
 * the root's index.json (when they mention `projects`) or datadog-postgres's in a file-system
 * repository, then
 * updateIndex adds a new wheel and one already listed, and, in a second run, a wheel whose
 * name is listed with another digest. Contract extra: that second run is always refused.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { isProvenantError } from '../../src/errors.ts';
import { silentReporter } from '../../src/reporter.ts';
import type { IndexEntry } from '../../src/simple-index/entry.ts';
import { projectJsonKey, ROOT_JSON_KEY } from '../../src/simple-index/layout.ts';
import { updateIndex } from '../../src/simple-index/update.ts';
import { FsStorage } from '../../src/storage/fs.ts';
import { scratchDir } from '../lib/scratch.ts';

const base = scratchDir('index');
const PROJECT = 'datadog-postgres';
const NOW = new Date('2026-01-01T00:00:00Z');

function entry(version: string, sha: string, fileName = `datadog_postgres-${version}-py3-none-any.whl`): IndexEntry {
  return { project: PROJECT, version, fileName, sha256: sha, size: 4096, metadataSha256: 'b'.repeat(64), requiresPython: '>=3.9' };
}

/** The first listed file of the document, if it has one: publishing it again must be a no-op. */
function listed(data: Buffer): { filename: string; sha256: string } | undefined {
  try {
    const f = (JSON.parse(data.toString('utf8')) as { files?: { filename?: unknown; hashes?: { sha256?: unknown } }[] }).files?.[0];
    if (typeof f?.filename === 'string' && typeof f.hashes?.sha256 === 'string') return { filename: f.filename, sha256: f.hashes.sha256 };
  } catch {
    // not JSON: updateIndex says so
  }
  return undefined;
}

async function run(data: Buffer, entries: IndexEntry[]): Promise<void> {
  const dir = await mkdtemp(path.join(base, 'r-'));
  try {
    const key = /"projects"/.test(data.toString('latin1')) ? ROOT_JSON_KEY : projectJsonKey(PROJECT);
    await mkdir(path.dirname(path.join(dir, key)), { recursive: true });
    await writeFile(path.join(dir, key), data);
    await updateIndex(new FsStorage(dir), entries, silentReporter, { now: () => NOW, maxAttempts: 3 });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export async function fuzz(data: Buffer): Promise<void> {
  const old = listed(data);
  const again = old && /^[0-9a-f]{64}$/.test(old.sha256) && /^[A-Za-z0-9_][A-Za-z0-9_.+!-]*$/.test(old.filename) ? [entry('23.2.0', old.sha256, old.filename)] : [];
  let first: unknown;
  try {
    await run(data, [entry('99.0.0', 'a'.repeat(64)), ...again]);
  } catch (e) {
    if (!isProvenantError(e)) throw e;
    first = e;
  }
  if (first) throw first;
  if (again.length === 0) return;
  // The same file name with other bytes: releases are immutable, so this must be refused.
  try {
    await run(data, [entry('23.2.0', 'c'.repeat(64), again[0]!.fileName)]);
  } catch (e) {
    if (isProvenantError(e) && e.code === 'E_INDEX_CONFLICT') return;
    throw e;
  }
  if (again[0]!.sha256 !== 'c'.repeat(64)) throw new Error(`INDEX CONFLICT NOT REFUSED: ${again[0]!.fileName} was listed again with another sha256`);
}
