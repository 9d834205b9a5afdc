// docs/attestation-keys.md "A compromised attestation key", run as written: its shell block is
// taken from the document and run by bash against a real repository, so the runbook cannot drift
// from what works. Before it: a release attested by the key store's key; after it: that key is
// revoked, the release re-attested by the new key and installable again.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cp, readFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { test } from 'node:test';
import { BUNDLED_ROOT } from '../../src/app/workspace.ts';
import { REPO_ROOT, tempDir } from '../helpers/peers.ts';
import { cli } from './helpers.ts';

const run = promisify(execFile);

async function runbookBlock(heading: string): Promise<string> {
  const doc = await readFile(path.join(REPO_ROOT, 'docs/attestation-keys.md'), 'utf8');
  const section = doc.slice(doc.indexOf(`## ${heading}`));
  const m = /```sh\n([\s\S]*?)```/.exec(section);
  assert.ok(m, `no sh block under "${heading}"`);
  return m[1]!;
}

test('the compromised-key runbook, run as written: revoke, status, reattest --all; the release installs again', async (t) => {
  const dir = await tempDir(t);
  const ints = path.join(dir, 'integrations');
  await cp(BUNDLED_ROOT, ints, { recursive: true, filter: (src) => path.basename(src) !== 'dist' });
  assert.equal((await cli(['repo', 'init', '--bins', '16'], dir)).code, 0);
  for (const step of ['build', 'sign', 'publish']) {
    const r = await cli([step, 'redisdb', '--integrations-dir', ints], dir);
    assert.equal(r.code, 0, r.err);
  }
  const old = (JSON.parse(await readFile(path.join(dir, 'keys/keys.json'), 'utf8')) as { keys: { attestation: { keyid: string } } }).keys.attestation.keyid;
  const download = (state: string) =>
    cli(['download', 'datadog-redisdb', '--repository', path.join(dir, 'repository'), '--root', path.join(dir, 'keys/root.json'), '--state-dir', path.join(dir, state), '--dest', path.join(dir, `dl-${state}-${Date.now()}`), '--json'], dir);
  assert.equal((await download('host')).code, 0);

  const script = `set -euo pipefail\nprovenant() { "${path.join(REPO_ROOT, 'node_modules/.bin/node')}" "${path.join(REPO_ROOT, 'bin/provenant.js')}" "$@"; }\n${await runbookBlock('Runbook: a compromised attestation key')}`;
  const { stdout } = await run('bash', ['-c', script], { cwd: dir, env: { PATH: process.env.PATH, HOME: dir, OLD: old }, maxBuffer: 16 << 20 });
  // The first status lists the release as not installable, the second lists nothing.
  assert.match(stdout, /datadog-redisdb==\S+ {2}revoked key .* NOT INSTALLABLE/);
  assert.equal(stdout.match(/NOT INSTALLABLE/g)?.length, 1, stdout);

  for (const state of ['host', 'fresh-host']) {
    const d = await download(state);
    assert.equal(d.code, 0, d.err);
    assert.notDeepEqual(JSON.parse(d.out).attestation.keyIds, [old]);
  }
});
