// What counts as a rebuilder's VSA, rule by rule, with real keys and real DSSE signatures; the
// repository, TUF and the CLI are in vsa.test.ts and test/attacks/rebuild-vsa-online-key.test.ts.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { signRebuildVsa, vsaTargetOf } from '../../src/app/rebuild-vsa.ts';
import { signAttestation } from '../../src/attest/sign.ts';
import { ProvenantError } from '../../src/errors.ts';
import { approvalStatement, renderApprovalStatement } from '../../src/formats/approval.ts';
import { rebuildVsa, renderVsa, type VsaStatement } from '../../src/formats/vsa.ts';
import { PolicySchema, type SignerQuorum } from '../../src/policy/policy.ts';
import type { Signer } from '../../src/signers/signer.ts';
import { tallyRebuilds } from '../../src/verify/rebuilds-check.ts';
import { testSigner } from '../attest/keys.ts';
import { matched, release, WHEEL, WHEEL_SHA } from './vsa-fixtures.ts';

const quorum = (signers: Signer[], threshold: number): SignerQuorum => ({
  keys: Object.fromEntries(signers.map((s) => [s.keyId, { keytype: s.publicKey.keytype, scheme: s.publicKey.scheme as 'ed25519', keyval: s.publicKey.keyval }])),
  threshold,
});

/** A VSA as a rebuilder's key would sign it, with `edit` applied to the statement first. */
async function signedVsa(signer: Signer, edit: (s: VsaStatement) => void): Promise<Uint8Array> {
  const r = matched();
  const s = rebuildVsa({ wheelFileName: WHEEL, sha256: WHEEL_SHA, resourceUri: r.published.uri, attestation: r.attestation, timeVerified: new Date('2026-12-03T12:00:00Z'), verifierVersion: 'test' });
  edit(s);
  return (await signAttestation(renderVsa(s), [signer])).bytes;
}

test('VSAs by two distinct rebuilder keys count 2; the same key twice counts once', async () => {
  const [a, b] = [testSigner('ed25519'), testSigner('ecdsa')];
  const va = await signRebuildVsa(matched(), a);
  const vb = await signRebuildVsa(matched(), b);
  assert.equal(va.target, `rebuilds/datadog-postgres/23.2.0/${a.keyId}.sigstore.json`);
  const both = tallyRebuilds([{ file: va.target, bytes: va.bytes }, { file: vb.target, bytes: vb.bytes }], quorum([a, b], 2), release);
  assert.deepEqual(both.accepted.sort(), [a.keyId, b.keyId].sort());
  assert.deepEqual(both.rejected, []);
  const again = await signRebuildVsa(matched(), a, new Date('2027-01-01T00:00:00Z'));
  assert.deepEqual(tallyRebuilds([{ file: '1', bytes: va.bytes }, { file: '2', bytes: again.bytes }], quorum([a, b], 2), release).accepted, [a.keyId]);
});

test('counts zero: an untrusted key, another wheel digest, FAILED, another version, another attestation, another policy, not a VSA', async () => {
  const [a, outsider] = [testSigner('ed25519'), testSigner('ed25519')];
  const p = quorum([a], 1);
  const cases: [name: string, bytes: Uint8Array, reason: RegExp][] = [
    ['untrusted key', (await signRebuildVsa(matched(), outsider)).bytes, /E_ATTESTATION_\w+/],
    ['another digest', await signedVsa(a, (s) => void (s.subject[0]!.digest.sha256 = 'd'.repeat(64))), /it is about datadog_postgres-23\.2\.0-py3-none-any\.whl sha256 dddddddddddd/],
    ['FAILED', await signedVsa(a, (s) => void (s.predicate.verificationResult = 'FAILED')), /verificationResult is FAILED/],
    // A genuine VSA of 23.1.0 replayed for 23.2.0: its subject (file name) and attestation are 23.1.0's.
    [
      'another version',
      await signedVsa(a, (s) => {
        s.subject[0]!.name = 'datadog_postgres-23.1.0-py3-none-any.whl';
        s.predicate.inputAttestations[0]!.digest.sha256 = 'e'.repeat(64);
      }),
      /it is about datadog_postgres-23\.1\.0/,
    ],
    // Same wheel bytes under another version's name: the file name carries the version.
    ['same bytes, other version name', await signedVsa(a, (s) => void (s.subject[0]!.name = 'datadog_postgres-23.2.1-py3-none-any.whl')), /it is about datadog_postgres-23\.2\.1/],
    ['another attestation', await signedVsa(a, (s) => void (s.predicate.inputAttestations[0]!.digest.sha256 = 'f'.repeat(64))), /do not include this release's attestation/],
    ['another policy', await signedVsa(a, (s) => void (s.predicate.policy.uri = 'https://example.com/some-scan')), /verifies policy https:\/\/example\.com\/some-scan, not a rebuild/],
    [
      'an approval',
      (await signAttestation(renderApprovalStatement(approvalStatement({ project: 'datadog-postgres', version: '23.2.0', wheelFileName: WHEEL, sha256: WHEEL_SHA, note: '', approvedAt: new Date() })), [a])).bytes,
      /not a verification summary attestation .*predicateType/,
    ],
  ];
  for (const [name, bytes, reason] of cases) {
    const tally = tallyRebuilds([{ file: name, bytes }], p, release);
    assert.deepEqual(tally.accepted, [], name);
    assert.match(tally.rejected[0]!.reason, reason, name);
  }
});

test('a mismatch is never signed', async () => {
  const a = testSigner('ed25519');
  const differences = [{ path: 'x.py', kind: 'content' as const, detail: 'differs' }];
  await assert.rejects(signRebuildVsa(matched({ match: false, rebuilt: { fileName: WHEEL, sha256: 'd'.repeat(64) }, differences }), a), (e: unknown) => e instanceof ProvenantError && e.code === 'E_REBUILD_MISMATCH');
  // Inconsistent input (match claimed, other digest): refused the same way.
  await assert.rejects(signRebuildVsa(matched({ rebuilt: { fileName: WHEEL, sha256: 'd'.repeat(64) } }), a), (e: unknown) => e instanceof ProvenantError && e.code === 'E_REBUILD_MISMATCH');
});

test('a VSA file names its repository path; other files are E_VSA_INVALID; the policy refuses an unreachable rebuilders threshold', async () => {
  const [a, b] = [testSigner('ed25519'), testSigner('ecdsa')];
  const v = await signRebuildVsa(matched(), a);
  assert.equal(vsaTargetOf(v.bytes, 'v'), `rebuilds/datadog-postgres/23.2.0/${a.keyId}.sigstore.json`);
  const approval = await signAttestation(renderApprovalStatement(approvalStatement({ project: 'datadog-postgres', version: '23.2.0', wheelFileName: WHEEL, sha256: WHEEL_SHA, note: '', approvedAt: new Date() })), [a]);
  assert.throws(() => vsaTargetOf(approval.bytes, 'a.json'), (e: unknown) => e instanceof ProvenantError && e.code === 'E_VSA_INVALID' && /predicateType/.test(e.message));
  const twice = await signAttestation(await signedVsaPayload(), [a, b]);
  assert.throws(() => vsaTargetOf(twice.bytes, 't.json'), (e: unknown) => e instanceof ProvenantError && e.code === 'E_VSA_INVALID' && /exactly one keyed signature/.test(e.message));

  const base = { policyVersion: 1, attestation: { keys: {}, threshold: 1, identities: [{ issuer: 'https://x', subject: 'y' }] }, provenance: { builders: ['*'], sourceRepositories: [], refs: [] }, allowUnsafeDisableVerification: false };
  const unreachable = PolicySchema.safeParse({ ...base, rebuilders: quorum([a], 2) });
  assert.equal(unreachable.success, false);
  assert.match(JSON.stringify(unreachable.error?.issues), /rebuilder threshold is larger than the number of rebuilder keys/);
  const misspelt = PolicySchema.safeParse({ ...base, rebuilders: { ...quorum([a], 1), projects: ['Datadog_Postgres'] } });
  assert.equal(misspelt.success, false);
  assert.equal(PolicySchema.safeParse({ ...base, rebuilders: { ...quorum([a, b], 2), projects: ['datadog-postgres'] } }).success, true);
});

function signedVsaPayload(): Uint8Array {
  const r = matched();
  return renderVsa(rebuildVsa({ wheelFileName: WHEEL, sha256: WHEEL_SHA, resourceUri: r.published.uri, attestation: r.attestation, timeVerified: new Date(), verifierVersion: 'test' }));
}
