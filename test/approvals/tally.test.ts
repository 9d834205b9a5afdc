import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { approvalTargetOf, approveRelease } from '../../src/app/approve.ts';
import { ProvenantError } from '../../src/errors.ts';
import { PolicySchema, type ApprovalsPolicy } from '../../src/policy/policy.ts';
import type { Signer } from '../../src/signers/signer.ts';
import { checkApprovals, tallyApprovals } from '../../src/verify/approvals-check.ts';
import { testSigner } from '../attest/keys.ts';
import { tempDir } from '../helpers/peers.ts';

const WHEEL = 'datadog_postgres-23.2.0-py3-none-any.whl';
const release = { project: 'datadog-postgres', version: '23.2.0' };

/** Real keys made per test, a real wheel file, real DSSE signatures: only the repository is left out (e2e.test.ts has it). */
async function setup(t: { after(fn: () => unknown): void }) {
  const dir = await tempDir(t);
  const wheel = path.join(dir, WHEEL);
  await writeFile(wheel, 'the reviewed wheel bytes');
  const other = path.join(dir, 'other', WHEEL);
  const a = testSigner('ed25519');
  const b = testSigner('ecdsa');
  const policy = (signers: Signer[], threshold: number): ApprovalsPolicy => ({
    keys: Object.fromEntries(signers.map((s) => [s.keyId, { keytype: s.publicKey.keytype, scheme: s.publicKey.scheme as 'ed25519', keyval: s.publicKey.keyval }])),
    threshold,
  });
  const approve = async (signer: Signer, file = wheel) => {
    const x = await approveRelease({ release, wheel: file, signer, note: 'reviewed', now: new Date('2026-01-02T03:04:05Z') });
    return { file: x.target, bytes: x.bytes, sha256: x.wheel.sha256 };
  };
  const first = await approve(a);
  const target = { ...release, wheelFileName: WHEEL, sha256: first.sha256 };
  return { dir, wheel, other, a, b, policy, approve, first, target };
}

function refused(fn: () => void, pattern: RegExp) {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof ProvenantError, String(e));
    assert.equal(e.code, 'E_APPROVALS_MISSING');
    assert.equal(e.exitClass, 'verification');
    assert.match(e.message, pattern);
    return true;
  });
}

test('2-of-2: approvals by both policy keys of the exact wheel are accepted', async (t) => {
  const s = await setup(t);
  const p = s.policy([s.a, s.b], 2);
  const tally = tallyApprovals([s.first, await s.approve(s.b)], p, s.target);
  assert.deepEqual(tally.accepted.sort(), [s.a.keyId, s.b.keyId].sort());
  assert.deepEqual(tally.rejected, []);
  checkApprovals(tally, p, s.target);
});

test('1-of-2 is refused with E_APPROVALS_MISSING', async (t) => {
  const s = await setup(t);
  const p = s.policy([s.a, s.b], 2);
  const tally = tallyApprovals([s.first], p, s.target);
  assert.deepEqual(tally.accepted, [s.a.keyId]);
  refused(() => checkApprovals(tally, p, s.target), /has 1 valid approval\(s\) of datadog_postgres-23\.2\.0-py3-none-any\.whl; the policy requires 2/);
});

test('an approval of another digest counts zero', async (t) => {
  const s = await setup(t);
  const { mkdir } = await import('node:fs/promises');
  await mkdir(path.dirname(s.other), { recursive: true });
  await writeFile(s.other, 'a different wheel under the same name');
  const p = s.policy([s.a, s.b], 2);
  const tally = tallyApprovals([s.first, await s.approve(s.b, s.other)], p, s.target);
  assert.deepEqual(tally.accepted, [s.a.keyId]);
  assert.match(tally.rejected[0]!.reason, /approves datadog_postgres-23\.2\.0-py3-none-any\.whl sha256 [0-9a-f]{12}…, not/);
  refused(() => checkApprovals(tally, p, s.target), /counted zero: .*approves/);
});

test('an approval by a key the policy does not list counts zero', async (t) => {
  const s = await setup(t);
  const stranger = testSigner('ed25519');
  const p = s.policy([s.a, s.b], 2);
  const tally = tallyApprovals([s.first, await s.approve(stranger)], p, s.target);
  assert.deepEqual(tally.accepted, [s.a.keyId]);
  assert.match(tally.rejected[0]!.reason, /^E_ATTESTATION_KEY_UNTRUSTED: /);
  refused(() => checkApprovals(tally, p, s.target), /has 1 valid approval/);
});

test('duplicate approvals by one key count once, under one key id or two naming the same key', async (t) => {
  const s = await setup(t);
  const again = await s.approve(s.a);
  const p = s.policy([s.a, s.b], 2);
  const tally = tallyApprovals([s.first, again, s.first], p, s.target);
  assert.deepEqual(tally.accepted, [s.a.keyId]);
  refused(() => checkApprovals(tally, p, s.target), /has 1 valid approval/);
  // The same key material listed twice (a second key id, e.g. PEM instead of raw hex) is still one approver.
  const aliasId = 'f'.repeat(64);
  const { createPublicKey } = await import('node:crypto');
  const pem = createPublicKey(s.a.publicKeyPem).export({ type: 'spki', format: 'pem' }).toString();
  const aliased: ApprovalsPolicy = { keys: { ...p.keys, [aliasId]: { keytype: 'ed25519', scheme: 'ed25519', keyval: { public: pem } } }, threshold: 2 };
  const byAlias = { ...again, bytes: new TextEncoder().encode(new TextDecoder().decode(again.bytes).replace(s.a.keyId, aliasId)) };
  const t2 = tallyApprovals([s.first, byAlias], aliased, s.target);
  assert.equal(t2.accepted.length, 1, JSON.stringify(t2));
  refused(() => checkApprovals(t2, aliased, s.target), /has 1 valid approval/);
});

test('the approval file names its own repository path; the policy schema refuses an unreachable threshold', async (t) => {
  const s = await setup(t);
  assert.equal(approvalTargetOf(s.first.bytes, 'x'), `approvals/datadog-postgres/23.2.0/${s.a.keyId}.sigstore.json`);
  const p = s.policy([s.a], 2);
  const r = PolicySchema.safeParse({
    policyVersion: 1,
    attestation: { keys: {}, threshold: 1, identities: [{ issuer: 'https://x', subject: 'y' }] },
    provenance: { builders: ['*'], sourceRepositories: [], refs: [] },
    allowUnsafeDisableVerification: false,
    approvals: p,
  });
  assert.equal(r.success, false);
  assert.match(JSON.stringify(r.error?.issues), /approval threshold is larger/);
});

test('refusals before anything is signed or published: not an approval, an unreadable or foreign wheel, a bad release spec', async (t) => {
  const s = await setup(t);
  const { signAttestation } = await import('../../src/attest/sign.ts');
  const provenance = await signAttestation(new TextEncoder().encode(`{"_type":"https://in-toto.io/Statement/v1","subject":[{"name":"${WHEEL}","digest":{"sha256":"${s.first.sha256}"}}],"predicateType":"https://slsa.dev/provenance/v1","predicate":{}}`), [s.a]);
  assert.throws(() => approvalTargetOf(provenance.bytes, 'p.sigstore.json'), (e: unknown) => e instanceof ProvenantError && e.code === 'E_APPROVAL_INVALID' && /predicateType/.test(e.message));
  // Signed by an approver's key and about this very wheel, but provenance, not an approval: it counts zero.
  const asApproval = tallyApprovals([{ file: 'p.sigstore.json', bytes: provenance.bytes }], s.policy([s.a], 1), s.target);
  assert.deepEqual(asApproval.accepted, []);
  assert.match(asApproval.rejected[0]!.reason, /predicateType/);
  await assert.rejects(approveRelease({ release, wheel: path.join(s.dir, 'gone', WHEEL), signer: s.a }), (e: unknown) => e instanceof ProvenantError && e.code === 'E_APPROVAL_INPUT' && e.exitClass === 'input');
  await assert.rejects(approveRelease({ release: { project: 'datadog-redisdb', version: '23.2.0' }, wheel: s.wheel, signer: s.a }), (e: unknown) => e instanceof ProvenantError && e.code === 'E_WHEEL_PROJECT_MISMATCH');
  const { parseReleaseSpec } = await import('../../src/app/approve.ts');
  assert.deepEqual(parseReleaseSpec('Datadog_Postgres==23.2.0'), release);
  assert.throws(() => parseReleaseSpec('datadog-postgres 23.2.0'), (e: unknown) => e instanceof ProvenantError && e.code === 'E_USAGE');
});

test('approvals apply to the projects the policy names, or to every project', async (t) => {
  const s = await setup(t);
  const { approvalsRequired } = await import('../../src/verify/approvals-check.ts');
  const base = { policyVersion: 1 as const, attestation: { keys: {}, threshold: 1 }, provenance: { builders: ['*'], sourceRepositories: [], refs: [] }, allowUnsafeDisableVerification: false };
  assert.equal(approvalsRequired(base, 'datadog-postgres'), undefined);
  const all = s.policy([s.a], 1);
  assert.equal(approvalsRequired({ ...base, approvals: all }, 'datadog-redisdb'), all);
  const some = { ...all, projects: ['datadog-postgres'] };
  assert.equal(approvalsRequired({ ...base, approvals: some }, 'datadog-postgres'), some);
  assert.equal(approvalsRequired({ ...base, approvals: some }, 'datadog-redisdb'), undefined);
});
