// Independent rebuilders: two rebuilders (a PEM file key and a key on a SoftHSM token) rebuild a
// real release from a real git checkout, sign SLSA VSAs and have them published; a host whose
// policy needs 2 rebuilders installs only after both. python-tuf still reads the repository.
import assert from 'node:assert/strict';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { parseAttestationBundle } from '../../src/attest/bundle.ts';
import { VSA_PREDICATE_TYPE } from '../../src/formats/vsa.ts';
import { exportPrivateKeyPem, generatePrivateKey, keyIdOf, tufPublicKey } from '../../src/signers/key-file.ts';
import { openSigner } from '../../src/signers/open-signer.ts';
import { python } from '../helpers/peers.ts';
import { PY_TUF_CLIENT } from '../helpers/python-tuf.ts';
import { startStaticServer } from '../helpers/static-server.ts';
import { softHsm, useSoftHsm } from '../signers/helpers/softhsm.ts';
import { setup } from './checkout.ts';

const PIN = '24681357';


test('a policy needing 2 rebuilders: refused with 0 and 1 published VSAs, installed with 2 (file key and SoftHSM key)', { timeout: 300_000 }, async (t) => {
  const s = await setup(t);
  const rel = await s.cli(s.integrations, 'release', 'postgres', ...s.repoFlags);
  assert.equal(rel.code, 0, rel.err);
  const repo = path.join(s.work, 'repository');
  const root = path.join(s.work, 'keys/root.json');

  // Rebuilder A: an Ed25519 PEM file. Rebuilder B: a P-256 key generated on a SoftHSM token.
  const pemKey = generatePrivateKey('ed25519');
  const pemFile = path.join(s.work, 'rebuilder-a.pem');
  await writeFile(pemFile, exportPrivateKeyPem(pemKey));
  const a = { ref: pemFile, keyId: keyIdOf(tufPublicKey(pemKey)), pub: tufPublicKey(pemKey) };
  const hsm = await softHsm(t);
  useSoftHsm(t, hsm);
  await hsm.initToken('rebuilder', PIN);
  await hsm.generate('rebuilder', PIN, 'EC:prime256v1', '01', 'vsa');
  const pinFile = path.join(s.work, 'pin');
  await writeFile(pinFile, `${PIN}\n`);
  const hsmRef = hsm.uri('rebuilder', 'vsa', `pin-source=${pinFile}`);
  const opened = await openSigner(hsmRef, { env: s.env, cwd: s.work });
  const b = { ref: hsmRef, keyId: opened.keyId, pub: opened.publicKey };
  await opened.close?.();

  const policyDir = path.join(repo, 'policy');
  const published = (await readdir(policyDir)).find((f) => f.endsWith('.attestation-policy.json'))!;
  const policy = JSON.parse(await readFile(path.join(policyDir, published), 'utf8')) as Record<string, unknown>;
  policy.rebuilders = { keys: { [a.keyId]: a.pub, [b.keyId]: b.pub }, threshold: 2, projects: ['datadog-postgres'] };
  await writeFile(path.join(s.work, 'policy.json'), JSON.stringify(policy));
  const trust = await s.cli(s.work, 'repo', 'set-trust', '--policy', 'policy.json', ...s.repoFlags);
  assert.equal(trust.code, 0, trust.err);

  let downloads = 0;
  const download = async () => {
    const dest = path.join(s.work, `dest-${downloads++}`);
    const r = await s.cli(s.work, 'download', 'datadog-postgres', '--version', '23.2.0', '--repository', repo, '--root', root, '--state-dir', path.join(s.work, 'host-state'), '--dest', dest);
    return { ...r, dest };
  };
  const refusedWith = async (count: number) => {
    const r = await download();
    assert.equal(r.code, 5, r.err);
    assert.match(r.err, new RegExp(`E_REBUILDS_MISSING: datadog-postgres 23\\.2\\.0 has ${count} valid rebuild VSA\\(s\\) of datadog_postgres-23\\.2\\.0-py3-none-any\\.whl from independent rebuilders; the policy requires 2`));
    assert.deepEqual(await readdir(r.dest).catch(() => []), []);
  };
  await refusedWith(0);

  // Each rebuilder: its own state, its own output directory; the policy's rebuilders rule does not stop the rebuild itself.
  const rebuildAndSign = async (who: { ref: string; keyId: string }, name: string) => {
    const r = await s.rebuild('datadog-postgres==23.2.0', s.checkout, '--sign-vsa', '--key', who.ref, '--out', path.join(s.work, `vsas-${name}`), '--state-dir', path.join(s.work, `state-${name}`));
    assert.equal(r.code, 0, r.err);
    const out = r.result as typeof r.result & { vsa: { file: string; keyId: string; target: string } };
    assert.equal(out.match, true);
    assert.equal(out.vsa.keyId, who.keyId);
    assert.equal(out.vsa.target, `rebuilds/datadog-postgres/23.2.0/${who.keyId}.sigstore.json`);
    assert.equal(out.vsa.file, path.join(s.work, `vsas-${name}`, 'datadog-postgres/23.2.0', `${who.keyId}.sigstore.json`));
    const bundle = parseAttestationBundle(await readFile(out.vsa.file), out.vsa.file);
    const st = JSON.parse(new TextDecoder().decode(bundle.envelope.payload)) as { subject: { name: string; digest: { sha256: string } }[]; predicateType: string; predicate: Record<string, unknown> };
    assert.equal(st.predicateType, VSA_PREDICATE_TYPE);
    assert.deepEqual(st.subject, [{ name: out.published.fileName, digest: { sha256: out.published.sha256 } }]);
    assert.equal(st.predicate.verificationResult, 'PASSED');
    assert.deepEqual(st.predicate.inputAttestations, [{ uri: out.attestation.uri, digest: { sha256: out.attestation.sha256 } }]);
    assert.equal(st.predicate.resourceUri, out.published.uri);
    assert.equal(st.predicate.slsaVersion, '1.0');
    return out.vsa;
  };
  const publishVsa = async (file: string) => {
    const r = await s.cli(s.work, 'rebuild', '--publish', file, ...s.repoFlags, '--json');
    assert.equal(r.code, 0, r.err);
    return JSON.parse(r.out) as { published: string[]; unchanged: string[] };
  };

  const vsaA = await rebuildAndSign(a, 'a');
  assert.deepEqual((await publishVsa(vsaA.file)).published, [vsaA.target]);
  await refusedWith(1);
  assert.deepEqual((await publishVsa(vsaA.file)).unchanged, [vsaA.target], 'the same VSA again changes nothing');

  const vsaB = await rebuildAndSign(b, 'b');
  assert.deepEqual((await publishVsa(vsaB.file)).published, [vsaB.target]);
  const ok = await download();
  assert.equal(ok.code, 0, ok.err);
  assert.deepEqual(await readdir(ok.dest), ['datadog_postgres-23.2.0-py3-none-any.whl']);

  // python-tuf, from 1.root.json over HTTP, finds the release and both VSAs pinned by the bins.
  const srv = await startStaticServer(repo, t);
  await mkdir(path.join(s.work, 'py-meta'));
  await mkdir(path.join(s.work, 'py-targets'));
  const wanted = ['pointers/datadog-postgres/datadog-postgres-23.2.0.pointer', vsaA.target, vsaB.target];
  const py = await python(['-c', PY_TUF_CLIENT, path.join(s.work, 'py-meta'), path.join(repo, 'metadata/1.root.json'), srv.url, path.join(s.work, 'py-targets'), ...wanted]);
  const lines = py.stdout.trim().split('\n');
  assert.equal(lines.length, 3, py.stdout);
  for (const [i, vsa] of [vsaA, vsaB].entries()) {
    const [, file] = lines[i + 1]!.split(' ');
    assert.deepEqual(await readFile(file!), await readFile(vsa.file));
  }
});
