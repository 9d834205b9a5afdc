import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { publishTrustTargets } from '../../src/app/trust-targets.ts';
import { renderPolicy, defaultPolicy } from '../../src/policy/policy.ts';
import { publish, repoFixture, signedRelease, type ReleaseOptions, type RepoFixture } from '../download/helpers/fixture.ts';
import { download, expectRefused, freshDest } from '../download/helpers/run.ts';
import { REPO_ROOT } from '../helpers/peers.ts';
import { startStaticServer } from '../helpers/static-server.ts';
import { contextOf, keylessSign, otherStatementBytes, releaseIdentity, RUN, tlogEntry } from './helpers/keyless.ts';
import { startSigstore, type SigstoreInstance } from './helpers/sigstore.ts';

/**
 * `provenant download` of keyless attestations, end to end: a repository whose TUF-signed
 * policy lists a keyless identity and whose targets carry the test instance's Sigstore trusted
 * root; releases signed by the instance's real Fulcio/Rekor/TSA servers on loopback. Every
 * refusal has its own code and leaves nothing at the destination.
 */
const V = '1.0.0';

async function keylessRepository(t: { after(fn: () => unknown): void }, s: SigstoreInstance, withRoot = true): Promise<RepoFixture> {
  const fx = await repoFixture(t);
  const policy = renderPolicy(defaultPolicy({ attestationKeys: [fx.attestation], identities: [releaseIdentity(s)] }));
  await publishTrustTargets(fx.storage, fx.signers, undefined, { policy, ...(withRoot ? { sigstoreTrustedRoot: s.trustedRootBytes } : {}) });
  return fx;
}

test('keyless downloads: accepted as the policy says, each failure refused with its own code and nothing written', async (t) => {
  const s = await startSigstore(t);
  const foreign = await startSigstore(t); // another Sigstore instance: its CA is not in the trusted root
  const fx = await keylessRepository(t, s);
  const keyless: ReleaseOptions = { context: contextOf(RUN), signStatement: keylessSign(s) };
  const evilRun = { ...RUN, repository: 'org/repo-evil', workflowRef: 'org/repo-evil/.github/workflows/release.yml@refs/heads/main' };
  const selfHosted = { ...RUN, runnerEnvironment: 'self-hosted' };
  const editEntry = (f: (entry: Record<string, unknown> & { inclusionProof: Record<string, unknown> }, other: Record<string, unknown>) => void): ReleaseOptions['editBundle'] => async (b) => {
    const other = JSON.parse(new TextDecoder().decode(await keylessSign(s)(await otherStatementBytes()))) as Record<string, unknown>;
    f(tlogEntry(b), other);
  };
  const releases = {
    'ok-keyless': keyless,
    'ok-keyless-tsa': { ...keyless, signStatement: keylessSign(s, RUN, { tsa: true }) },
    'ok-keyed': {},
    expired: {
      ...keyless,
      signStatement: async (st: Uint8Array) => {
        s.setCaOffset(-60 * 60 * 1000); // a certificate that expired 50 minutes before Rekor logged its signature
        try {
          return await keylessSign(s)(st);
        } finally {
          s.setCaOffset(0);
        }
      },
    },
    'wrong-issuer': { ...keyless, signStatement: keylessSign(s, RUN, { issuer: 'other' }) },
    'wrong-san': { context: contextOf(evilRun), signStatement: keylessSign(s, evilRun) },
    'self-hosted': { ...keyless, signStatement: keylessSign(s, selfHosted) },
    'no-tlog': { ...keyless, editBundle: (b: Record<string, unknown>) => void ((b.verificationMaterial as { tlogEntries: unknown[] }).tlogEntries = []) },
    'other-artifact': { ...keyless, editBundle: async (b: Record<string, unknown>) => {
      const other = JSON.parse(new TextDecoder().decode(await keylessSign(s)(await otherStatementBytes()))) as Record<string, unknown>;
      (b.verificationMaterial as { tlogEntries: unknown }).tlogEntries = (other.verificationMaterial as { tlogEntries: unknown }).tlogEntries;
    } },
    'bad-checkpoint': { ...keyless, editBundle: editEntry((e, other) => void (e.inclusionProof.checkpoint = tlogEntry(other).inclusionProof.checkpoint)) },
    'bad-set': {
      ...keyless,
      editBundle: editEntry((e) => {
        const set = Buffer.from((e.inclusionPromise as { signedEntryTimestamp: string }).signedEntryTimestamp, 'base64');
        set[set.length - 5]! ^= 1;
        (e.inclusionPromise as { signedEntryTimestamp: string }).signedEntryTimestamp = set.toString('base64');
      }),
    },
    'foreign-ca': { ...keyless, signStatement: keylessSign(foreign) },
    'media-type': { ...keyless, editBundle: (b: Record<string, unknown>) => void (b.mediaType = 'application/vnd.dev.sigstore.bundle+json;version=0.2') },
    'other-commit': { ...keyless, context: { ...contextOf(RUN), commit: 'b'.repeat(40) } },
    'other-repository': { ...keyless, context: { ...contextOf(RUN), repository: 'https://github.com/org/fork' } },
  } satisfies Record<string, ReleaseOptions>;
  // One after the other: the expired case moves Fulcio's clock while it signs.
  const made = [];
  for (const [p, o] of Object.entries(releases)) made.push(await signedRelease(fx, p, V, o));
  await publish(fx, made);

  await t.test('a keyless release verifies: identity, Rekor log index and the statement', async () => {
    for (const p of ['ok-keyless', 'ok-keyless-tsa']) {
      const r = await download(fx, fx.repoDir, p);
      assert.equal(r.verified, true);
      assert.deepEqual(r.attestation?.keyIds, []);
      assert.equal(r.attestation?.keyless?.subject, 'https://github.com/org/repo/.github/workflows/release.yml@refs/heads/main');
      assert.equal(r.attestation?.keyless?.issuer, s.issuer);
      assert.match(r.attestation?.keyless?.logIndexes[0] ?? '', /^\d+$/);
      assert.equal(r.attestation?.commit, RUN.sha);
      assert.deepEqual(await readdir(r.dest), [`${p.replace(/-/g, '_')}-${V}-py3-none-any.whl`]);
    }
  });

  await t.test('keyed signing stays accepted beside keyless: the policy says what the repository accepts', async () => {
    const r = await download(fx, fx.repoDir, 'ok-keyed');
    assert.deepEqual(r.attestation?.keyIds, [fx.attestation.keyId]);
    assert.equal(r.attestation?.keyless, undefined);
  });

  const refusals: [string, string][] = [
    ['expired', 'E_ATTESTATION_CERT_EXPIRED'],
    ['wrong-issuer', 'E_ATTESTATION_ISSUER'],
    ['wrong-san', 'E_ATTESTATION_SAN'],
    ['self-hosted', 'E_ATTESTATION_CERT_EXTENSION'],
    ['no-tlog', 'E_ATTESTATION_TLOG_MISSING'],
    ['other-artifact', 'E_ATTESTATION_TLOG_BODY'],
    ['bad-checkpoint', 'E_ATTESTATION_TLOG_CHECKPOINT'],
    ['bad-set', 'E_ATTESTATION_TLOG_SET'],
    ['foreign-ca', 'E_ATTESTATION_CERT_CHAIN'],
    ['media-type', 'E_ATTESTATION_MEDIA_TYPE'],
    ['other-commit', 'E_PROVENANCE_CERT_MISMATCH'],
    ['other-repository', 'E_PROVENANCE_CERT_MISMATCH'],
  ];
  for (const [project, code] of refusals) {
    await t.test(`${project} → ${code}, nothing written`, async () => {
      const e = await expectRefused(fx, fx.repoDir, project, code, 'verification');
      assert.match(e.message, code === 'E_PROVENANCE_CERT_MISMATCH' ? /^provenance policy: / : /^attestation signature: /);
      if (project === 'other-commit') assert.equal(e.field, 'commit');
      if (project === 'other-repository') assert.equal(e.field, 'sourceRepository');
      // A checkpoint validly signed by the log, but for another tree: the proof does not reach it.
      if (project === 'bad-checkpoint') assert.match(e.message, /root hash/);
    });
  }
});

test('a keyless attestation, and no Sigstore trusted root in the repository → E_SIGSTORE_ROOT_MISSING; keyed ones still verify', async (t) => {
  const s = await startSigstore(t);
  const fx = await keylessRepository(t, s, false);
  await publish(fx, [await signedRelease(fx, 'keyless', V, { context: contextOf(RUN), signStatement: keylessSign(s) }), await signedRelease(fx, 'keyed', V)]);
  await expectRefused(fx, fx.repoDir, 'keyless', 'E_SIGSTORE_ROOT_MISSING', 'verification');
  assert.equal((await download(fx, fx.repoDir, 'keyed')).verified, true);
});

test('a repository whose policy lists no identity refuses keyless attestations (E_ATTESTATION_KEY_UNTRUSTED)', async (t) => {
  const s = await startSigstore(t);
  const fx = await repoFixture(t);
  await publishTrustTargets(fx.storage, fx.signers, undefined, { sigstoreTrustedRoot: s.trustedRootBytes });
  await publish(fx, [await signedRelease(fx, 'keyless', V, { context: contextOf(RUN), signStatement: keylessSign(s) })]);
  await expectRefused(fx, fx.repoDir, 'keyless', 'E_ATTESTATION_KEY_UNTRUSTED', 'verification');
});

test('a keyed download neither loads the keyless verifier nor fetches the Sigstore trusted root; a keyless one does both', async (t) => {
  const s = await startSigstore(t);
  const fx = await keylessRepository(t, s);
  await publish(fx, [await signedRelease(fx, 'keyed', V), await signedRelease(fx, 'keyless', V, { context: contextOf(RUN), signStatement: keylessSign(s) })]);
  const server = await startStaticServer(fx.repoDir, t);
  const downloadModule = pathToFileURL(path.join(REPO_ROOT, 'src/app/download.ts')).href;
  // A fresh process per download, recording every module it loads.
  const script = `
    import { registerHooks } from 'node:module';
    const loaded = [];
    registerHooks({ load(url, context, next) { loaded.push(url); return next(url, context); } });
    const [project, repository, root, stateDir, dest] = process.argv.slice(1);
    const { downloadWheel } = await import(${JSON.stringify(downloadModule)});
    await downloadWheel({ project, repository, root, stateDir, dest, env: {} });
    console.log(JSON.stringify(loaded.filter((u) => u.includes('/src/attest/')).map((u) => u.slice(u.lastIndexOf('/') + 1))));
  `;
  const run = async (project: string) => {
    const before = server.count(/sigstore-trusted-root/);
    const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script, project, server.url, fx.rootFile, path.join(fx.dir, `state-${project}`), await freshDest(fx)]);
    return { modules: JSON.parse(stdout) as string[], trustedRootFetches: server.count(/sigstore-trusted-root/) - before };
  };
  const keyed = await run('keyed');
  assert.ok(keyed.modules.includes('verify.ts'), keyed.modules.join());
  assert.deepEqual(keyed.modules.filter((m) => m === 'keyless-verify.ts' || m === 'sigstore-root.ts'), []);
  assert.equal(keyed.trustedRootFetches, 0);
  const keylessRun = await run('keyless');
  assert.ok(keylessRun.modules.includes('keyless-verify.ts') && keylessRun.modules.includes('sigstore-root.ts'), keylessRun.modules.join());
  assert.equal(keylessRun.trustedRootFetches, 1);
});
