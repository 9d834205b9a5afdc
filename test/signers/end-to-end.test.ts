import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import type { ReleaseSummary } from '../../src/app/release.ts';
import { pointerTargetPath } from '../../src/formats/layout.ts';
import { readKeyIndex } from '../../src/signers/key-store.ts';
import { python, REPO_ROOT } from '../helpers/peers.ts';
import { startStaticServer } from '../helpers/static-server.ts';
import { workspace } from '../release/workspace.ts';
import { startMoto } from './helpers/moto.ts';
import { PY_TUF_CLIENT } from '../helpers/python-tuf.ts';
import { softHsm } from './helpers/softhsm.ts';

const run = promisify(execFile);
const PIN = '8642';

test('end to end through the CLI: root (Ed25519) and online (P-384) keys on a SoftHSM token, the attestation key in KMS over https; init, release, sign, publish, refresh; provenant download and python-tuf verify', async (t) => {
  const w = await workspace(t);
  const hsm = await softHsm(t);
  await hsm.initToken('release', PIN);
  await hsm.generate('release', PIN, 'EC:edwards25519', '01', 'root');
  await hsm.generate('release', PIN, 'EC:secp384r1', '02', 'online');
  // awskms://host:port/ is always https (as in cosign): moto serves TLS with a certificate the CLI trusts.
  const tls = { cert: path.join(w.dir, 'kms-cert.pem'), key: path.join(w.dir, 'kms-key.pem') };
  await run('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', tls.key, '-out', tls.cert]);
  const kms = await startMoto(t, { tls });
  const attestation = await kms.createKey('ECC_NIST_P256');
  await kms.alias('alias/provenant-attestation', attestation.keyId);
  const attestationRef = `awskms://127.0.0.1:${kms.port}/alias/provenant-attestation`;

  const env = { ...w.env, ...kms.env, SOFTHSM2_CONF: hsm.conf, NODE_EXTRA_CA_CERTS: tls.cert, PROVENANT_PKCS11_PIN: PIN };
  const cli = async (...args: string[]) => {
    try {
      const r = await run(path.join(REPO_ROOT, 'node_modules/.bin/node'), [path.join(REPO_ROOT, 'bin/provenant.js'), ...args], { cwd: w.dir, env, maxBuffer: 16 << 20 });
      return { code: 0, out: r.stdout, err: r.stderr };
    } catch (e) {
      const x = e as { code?: number; stdout?: string; stderr?: string };
      return { code: x.code ?? 1, out: x.stdout ?? '', err: x.stderr ?? '' };
    }
  };

  const init = await cli('repo', 'init', '--bins', '4', '--root-key', hsm.uri('release', 'root'), '--online-key', hsm.uri('release', 'online'), '--attestation-key', attestationRef, '--json');
  assert.equal(init.code, 0, init.err);
  const index = await readKeyIndex(path.join(w.dir, 'keys'));
  assert.deepEqual(
    Object.fromEntries(Object.entries(index.keys).map(([n, e]) => [n, e.ref ?? e.file])),
    { root: hsm.uri('release', 'root'), targets: 'targets.pem', online: hsm.uri('release', 'online'), attestation: attestationRef },
  );

  const release = await cli('release', 'postgres', '--integrations-dir', 'integrations', '--json');
  assert.equal(release.code, 0, release.err);
  const summary = JSON.parse(release.out) as ReleaseSummary;
  assert.deepEqual(summary.integrations[0]!.steps.map((s) => `${s.step}:${s.status}`).slice(-1), ['test download:ok']);

  for (const args of [['build', 'redisdb'], ['sign', 'redisdb', '--key', attestationRef], ['publish', 'redisdb']]) {
    const r = await cli(...args, '--integrations-dir', 'integrations', '--json');
    assert.equal(r.code, 0, `${args.join(' ')}: ${r.err}`);
  }
  const refresh = await cli('repo', 'refresh', '--force', 'root', '--force', 'timestamp', '--json');
  assert.equal(refresh.code, 0, refresh.err);
  assert.ok((JSON.parse(refresh.out) as { metadataWritten: string[] }).metadataWritten.includes('metadata/2.root.json'));

  const firstRoot = path.join(w.repo, 'metadata/1.root.json');
  for (const project of ['datadog-postgres', 'datadog-redisdb']) {
    const dest = path.join(w.dir, 'downloads', project);
    const r = await cli('download', project, '--repository', w.repo, '--root', firstRoot, '--dest', dest, '--state-dir', path.join(w.dir, 'state'));
    assert.equal(r.code, 0, r.err);
    assert.ok(existsSync(r.out.trim()), r.out);
  }

  const srv = await startStaticServer(w.repo, t);
  const pyMeta = path.join(w.dir, 'py-meta');
  await mkdir(pyMeta);
  const wanted = [pointerTargetPath('datadog-postgres', '23.2.0'), pointerTargetPath('datadog-redisdb', '7.1.0')];
  // python-tuf, starting from 1.root.json only, finds both pointers through the rotated root.
  const { stdout } = await python(['-c', PY_TUF_CLIENT, pyMeta, firstRoot, srv.url, path.join(w.dir, 'py-targets'), ...wanted]);
  const lines = stdout.trim().split('\n');
  assert.deepEqual(lines.map((l) => l.split(' ')[0]), [...wanted, 'root']);
  assert.equal(lines.at(-1), 'root 2');
  assert.match(await readFile(lines[0]!.split(' ')[1]!, 'utf8'), /^pointer:/m);
});
