import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { test } from 'node:test';
import { publishTrustTargets } from '../../src/app/trust-targets.ts';
import { defaultPolicy, renderPolicy } from '../../src/policy/policy.ts';
import { publish, repoFixture, signedRelease, type ReleaseOptions } from '../download/helpers/fixture.ts';
import { download, expectRefused } from '../download/helpers/run.ts';
import { caDate, makePki, pkiBundle } from './helpers/ca.ts';

/**
 * `provenant download` of attestations signed with an organization's certificates, end to end:
 * the repository's TUF-signed policy lists the organization's CA (root + intermediate, made by
 * openssl) next to its attestation key, and no Sigstore trusted root at all.
 */
const V = '1.0.0';
const SAN = 'https://ci.example.com/org/repo/release';

test('PKI downloads: accepted through the policy CA, refused with their codes and nothing written; keyed ones unchanged', async (t) => {
  const [pki, other] = await Promise.all([makePki(t), makePki(t, 'Other Corp')]);
  const fx = await repoFixture(t);
  const ca = { name: 'example-corp', root: pki.root, intermediates: [pki.intermediate], identities: [{ subject: SAN, projects: ['pki-*'] }] };
  await publishTrustTargets(fx.storage, fx.signers, undefined, { policy: renderPolicy(defaultPolicy({ attestationKeys: [fx.attestation], certificateAuthorities: [ca] })) });
  const day = 86400_000;
  const signedBy = (leaf: Awaited<ReturnType<typeof pki.issue>>): ReleaseOptions => ({ signStatement: async (st) => pkiBundle(st, leaf) });
  const releases: Record<string, ReleaseOptions> = {
    'pki-ok': signedBy(await pki.issue({ san: SAN })),
    'pki-expired': signedBy(await pki.issue({ san: SAN, start: caDate(new Date(Date.now() - 3 * day)), end: caDate(new Date(Date.now() - day)) })),
    'pki-foreign': signedBy(await other.issue({ san: SAN })),
    'pki-no-eku': signedBy(await pki.issue({ san: SAN, profile: 'leaf_no_eku' })),
    'pki-other-san': signedBy(await pki.issue({ san: `${SAN}-evil` })),
    'other-project': signedBy(await pki.issue({ san: SAN })),
    keyed: {},
  };
  const made = [];
  for (const [p, o] of Object.entries(releases)) made.push(await signedRelease(fx, p, V, o));
  await publish(fx, made);

  const r = await download(fx, fx.repoDir, 'pki-ok');
  assert.equal(r.verified, true);
  assert.deepEqual(r.attestation?.pki, { authority: 'example-corp', subject: SAN });
  assert.deepEqual(r.attestation?.keyIds, []);
  assert.deepEqual(await readdir(r.dest), [`pki_ok-${V}-py3-none-any.whl`]);
  assert.deepEqual((await download(fx, fx.repoDir, 'keyed')).attestation?.keyIds, [fx.attestation.keyId]);
  for (const [project, code] of [
    ['pki-expired', 'E_ATTESTATION_CERT_EXPIRED'],
    ['pki-foreign', 'E_ATTESTATION_CERT_CHAIN'],
    ['pki-no-eku', 'E_ATTESTATION_CERT_USAGE'],
    ['pki-other-san', 'E_ATTESTATION_SAN'],
    ['other-project', 'E_ATTESTATION_IDENTITY_PROJECT'],
  ] as const) {
    const e = await expectRefused(fx, fx.repoDir, project, code, 'verification');
    assert.match(e.message, /^attestation signature: /);
  }
});
