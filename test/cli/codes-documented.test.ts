import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { REPO_ROOT } from '../helpers/peers.ts';

async function textOf(dir: string, ext: string): Promise<string> {
  const files = (await readdir(path.join(REPO_ROOT, dir), { recursive: true })).filter((f) => f.endsWith(ext));
  return (await Promise.all(files.map((f) => readFile(path.join(REPO_ROOT, dir, f), 'utf8')))).join('\n');
}

test('every error code provenant raises is documented (scripts match on them)', async () => {
  const codes = new Set([...(await textOf('src', '.ts')).matchAll(/ProvenantError\(\s*'(E_[A-Z0-9_]+)'/g)].map((m) => m[1]!));
  assert.ok(codes.size > 100, `only ${codes.size} codes found: the scan is broken`);
  const docs = await textOf('docs', '.md');
  assert.deepEqual([...codes].filter((c) => !docs.includes(`\`${c}\``)).sort(), []);
});
