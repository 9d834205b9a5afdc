import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { test } from 'node:test';
import { publishTrustTargets } from '../../src/app/trust-targets.ts';
import { main } from '../../src/cli/main.ts';
import type { Output } from '../../src/cli/output.ts';
import { ProvenantError } from '../../src/errors.ts';
import { SIGSTORE_TRUSTED_ROOT_TARGET } from '../../src/formats/layout.ts';
import { defaultPolicy, renderPolicy } from '../../src/policy/policy.ts';
import { FsStorage } from '../../src/storage/fs.ts';
import { loadSigner } from '../../src/signers/key-store.ts';
import { fixedSignerSource, keyStoreSignerSource } from '../../src/tuf/signer-source.ts';
import { loadTrustedState } from '../../src/tuf/trusted-state.ts';
import { readTrustedRoot } from '../../src/signers/trusted-root.ts';
import { SETTINGS_FILE } from '../../src/signers/trust-files.ts';
import { sha256Hex } from '../../src/util/hash.ts';
import { publish, repoFixture, signedRelease, type RepoFixture } from '../download/helpers/fixture.ts';
import { download, expectRefused } from '../download/helpers/run.ts';
import { tempDir } from '../helpers/peers.ts';
import { contextOf, keylessSign, releaseIdentity, RUN } from './helpers/keyless.ts';
import { startSigstore } from './helpers/sigstore.ts';

/**
 * The Sigstore trusted root travels as a TUF target signed by the targets role: installed by
 * `repo init` (the public-good one from the @sigstore/tuf package, or a file), changed only by a
 * targets-signed `repo set-trust`, and read by downloaders through TUF like the policy.
 */
function capture(): Output & { out: string; err: string } {
  const o = { out: '', err: '', interactive: false, stdout: (t: string) => void (o.out += t), stderr: (t: string) => void (o.err += t) };
  return o;
}

function publicGoodSeed(): Buffer {
  const seeds = createRequire(import.meta.url)('@sigstore/tuf/seeds.json') as Record<string, { targets: Record<string, string> }>;
  return Buffer.from(seeds['https://tuf-repo-cdn.sigstore.dev']!.targets['trusted_root.json']!, 'base64');
}

test('repo init --sigstore-trusted-root public-good publishes the production root shipped in @sigstore/tuf; set-trust publishes a policy; the test instance does not chain to production', async (t) => {
  const dir = await tempDir(t);
  const [repo, keys] = [path.join(dir, 'repository'), path.join(dir, 'keys')];
  const o = capture();
  assert.equal(await main(['repo', 'init', '--repository', repo, '--keys', keys, '--bins', '16', '--sigstore-trusted-root', 'public-good', '--json'], o, {}, dir), 0, o.err);
  const state = await loadTrustedState(new FsStorage(repo), await readTrustedRoot(keys));
  const target = state.targets.signed.targets[SIGSTORE_TRUSTED_ROOT_TARGET];
  const seed = publicGoodSeed();
  assert.equal(target?.hashes.sha256, sha256Hex(seed), 'the target is the seed, byte for byte');
  const published = JSON.parse(await readFile(path.join(repo, 'policy', `${sha256Hex(seed)}.sigstore-trusted-root.json`), 'utf8')) as { tlogs: { baseUrl: string }[] };
  assert.ok(published.tlogs.some((l) => l.baseUrl === 'https://rekor.sigstore.dev'));
  const status = capture();
  assert.equal(await main(['repo', 'status', '--repository', repo, '--keys', keys], status, {}, dir), 0, status.err);
  assert.match(status.out, /Sigstore trusted root published/);

  // A policy accepting the test instance's identity, published with set-trust (targets key).
  const s = await startSigstore(t);
  const policyFile = path.join(dir, 'policy.json');
  await writeFile(policyFile, renderPolicy(defaultPolicy({ attestationKeys: [await loadSigner(keys, 'attestation', {})], identities: [releaseIdentity(s)] })));
  const set = capture();
  assert.equal(await main(['repo', 'set-trust', '--repository', repo, '--keys', keys, '--policy', policyFile, '--json'], set, {}, dir), 0, set.err);
  assert.deepEqual((JSON.parse(set.out) as { changed: string[] }).changed, ['policy/attestation-policy.json']);
  // Same bytes again: nothing to sign.
  const again = capture();
  assert.equal(await main(['repo', 'set-trust', '--repository', repo, '--keys', keys, '--policy', policyFile], again, {}, dir), 0, again.err);
  assert.equal(again.out, 'unchanged\n');

  // A keyless release from the loopback instance does not chain to the production Fulcio.
  const fx = await repoFixtureAt(dir, repo, keys);
  await publish(fx, [await signedRelease(fx, 'keyless', '1.0.0', { context: contextOf(RUN), signStatement: keylessSign(s) })]);
  await expectRefused(fx, repo, 'keyless', 'E_ATTESTATION_CERT_CHAIN', 'verification');
});

/** The download tests' fixture over a repository the CLI made. */
async function repoFixtureAt(dir: string, repoDir: string, keysDir: string): Promise<RepoFixture> {
  return {
    dir,
    repoDir,
    keysDir,
    storage: new FsStorage(repoDir),
    signers: keyStoreSignerSource(keysDir, {}),
    attestation: await loadSigner(keysDir, 'attestation', {}),
    online: await loadSigner(keysDir, 'online', {}),
    rootFile: path.join(repoDir, 'metadata/1.root.json'),
  };
}

test('updating the trusted root is a targets-signed change: the online key alone cannot, bad files are refused, and clients follow a rotation', async (t) => {
  const s1 = await startSigstore(t);
  const s2 = await startSigstore(t);
  const fx = await repoFixture(t);
  const policy = renderPolicy(defaultPolicy({ attestationKeys: [fx.attestation], identities: [releaseIdentity(s1), releaseIdentity(s2)] }));
  await publishTrustTargets(fx.storage, fx.signers, undefined, { policy, sigstoreTrustedRoot: s1.trustedRootBytes });
  const releases = [
    await signedRelease(fx, 'by-s1', '1.0.0', { context: contextOf(RUN), signStatement: keylessSign(s1) }),
    await signedRelease(fx, 'by-s2', '1.0.0', { context: contextOf(RUN), signStatement: keylessSign(s2) }),
  ];
  await publish(fx, releases);
  assert.equal((await download(fx, fx.repoDir, 'by-s1')).verified, true);
  await expectRefused(fx, fx.repoDir, 'by-s2', 'E_ATTESTATION_CERT_CHAIN', 'verification');

  const listing = async () => (await fx.storage.list('')).join('\n');
  const before = await listing();
  // Whoever holds only the online key (bins, snapshot, timestamp; e.g. CI) cannot swap the root.
  const onlineOnly = fixedSignerSource([fx.online], await readTrustedRoot(fx.keysDir), await readFile(path.join(fx.keysDir, SETTINGS_FILE)));
  await assert.rejects(publishTrustTargets(fx.storage, onlineOnly, undefined, { sigstoreTrustedRoot: s2.trustedRootBytes }), (e: unknown) => e instanceof ProvenantError && e.code === 'E_KEY_MISSING');
  // Files that are not a trusted root / policy are refused before anything is written.
  const notARoot = new TextEncoder().encode(JSON.stringify({ ...s2.trustedRoot, mediaType: 'application/json' }));
  await assert.rejects(publishTrustTargets(fx.storage, fx.signers, undefined, { sigstoreTrustedRoot: notARoot }), (e: unknown) => e instanceof ProvenantError && e.code === 'E_SIGSTORE_ROOT_INVALID');
  const noLog = new TextEncoder().encode(JSON.stringify({ ...s2.trustedRoot, tlogs: [] }));
  await assert.rejects(publishTrustTargets(fx.storage, fx.signers, undefined, { sigstoreTrustedRoot: noLog }), (e: unknown) => e instanceof ProvenantError && e.code === 'E_SIGSTORE_ROOT_INVALID');
  await assert.rejects(publishTrustTargets(fx.storage, fx.signers, undefined, { policy: new TextEncoder().encode('{"policyVersion":1}') }), (e: unknown) => e instanceof ProvenantError && e.code === 'E_POLICY_INVALID');
  assert.equal(await listing(), before, 'a refused change writes nothing');

  // With the targets key: the same clients now trust s2's instance and no longer s1's.
  const res = await publishTrustTargets(fx.storage, fx.signers, undefined, { sigstoreTrustedRoot: s2.trustedRootBytes });
  assert.deepEqual(res.changed, [SIGSTORE_TRUSTED_ROOT_TARGET]);
  assert.equal((await download(fx, fx.repoDir, 'by-s2')).verified, true);
  await expectRefused(fx, fx.repoDir, 'by-s1', 'E_ATTESTATION_CERT_CHAIN', 'verification');
});
