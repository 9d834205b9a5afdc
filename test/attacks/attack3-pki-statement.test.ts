import assert from 'node:assert/strict';
import { test } from 'node:test';
import { publishTrustTargets } from '../../src/app/trust-targets.ts';
import { defaultPolicy, renderPolicy } from '../../src/policy/policy.ts';
import { localContext, publish, repoFixture, signedRelease } from '../download/helpers/fixture.ts';
import { download, expectRefused } from '../download/helpers/run.ts';
import { makePki, pkiBundle } from '../pki/helpers/ca.ts';

/**
 * Attack (capacity B): the holder of a signing certificate from the organization's CA, which
 * (like Fulcio) records the CI run's source repository and commit, signs a statement claiming
 * ANOTHER commit. The certificate and the statement must tell the same story for PKI signers as
 * for keyless ones, or the certificate's facts vouch for a build they never saw.
 */
const V = '1.0.0';
const SAN = 'https://ci.example.com/org/repo/release';
const REPOSITORY = localContext().repository!;
const COMMIT = localContext().commit!;

test('attack3 B: a PKI certificate naming one commit cannot sign a statement about another (download refuses, nothing written)', async (t) => {
  const pki = await makePki(t);
  const fx = await repoFixture(t);
  const ca = { name: 'example-corp', root: pki.root, intermediates: [pki.intermediate], identities: [{ subject: SAN, extensions: { sourceRepositoryUri: REPOSITORY } }] };
  await publishTrustTargets(fx.storage, fx.signers, undefined, { policy: renderPolicy(defaultPolicy({ attestationKeys: [fx.attestation], certificateAuthorities: [ca] })) });
  const signedWith = (commit: string) => async () => ({ signStatement: async (st: Uint8Array) => pkiBundle(st, await pki.issue({ san: SAN, profile: 'leaf_ci', ci: { repository: REPOSITORY, commit } })) });
  await publish(fx, [await signedRelease(fx, 'pki-same', V, await signedWith(COMMIT)()), await signedRelease(fx, 'pki-other-commit', V, await signedWith('f'.repeat(40))())]);

  const ok = await download(fx, fx.repoDir, 'pki-same');
  assert.equal(ok.verified, true);
  assert.equal(ok.attestation?.commit, COMMIT);
  const e = await expectRefused(fx, fx.repoDir, 'pki-other-commit', 'E_PROVENANCE_CERT_MISMATCH', 'verification');
  assert.equal(e.field, 'commit');
});
