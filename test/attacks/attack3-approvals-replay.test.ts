import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { approveRelease } from '../../src/app/approve.ts';
import { signAttestation } from '../../src/attest/sign.ts';
import { approvalStatement, renderApprovalStatement } from '../../src/formats/approval.ts';
import type { ApprovalsPolicy } from '../../src/policy/policy.ts';
import type { Signer } from '../../src/signers/signer.ts';
import { tallyApprovals } from '../../src/verify/approvals-check.ts';
import { testSigner } from '../attest/keys.ts';
import { tempDir } from '../helpers/peers.ts';

/**
 * Attack (capacity C: the online key, which signs the bins where approvals are published): put
 * real approvals by policy keys where they do not belong. Refused by the existing code (tallyApprovals);
 * these tests keep it so.
 */
const keysOf = (signers: Signer[], threshold: number): ApprovalsPolicy => ({
  keys: Object.fromEntries(signers.map((s) => [s.keyId, { keytype: s.publicKey.keytype, scheme: s.publicKey.scheme as 'ed25519', keyval: s.publicKey.keyval }])),
  threshold,
});

test('attack3 C: another project\'s approval at this release\'s path counts zero; two signatures in one approval count per distinct approver only', async (t) => {
  const dir = await tempDir(t);
  const [a, b] = [testSigner('ed25519'), testSigner('ecdsa')];
  const wheelOf = async (project: string) => {
    const file = path.join(dir, project, `${project.replace(/-/g, '_')}-1.0.0-py3-none-any.whl`);
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, 'the same reviewed bytes');
    return file;
  };
  const postgres = await approveRelease({ release: { project: 'datadog-postgres', version: '1.0.0' }, wheel: await wheelOf('datadog-postgres'), signer: a, now: new Date('2026-01-01T00:00:00Z') });
  const redis = await approveRelease({ release: { project: 'datadog-redisdb', version: '1.0.0' }, wheel: await wheelOf('datadog-redisdb'), signer: b, now: new Date('2026-01-01T00:00:00Z') });
  assert.equal(redis.wheel.sha256, postgres.wheel.sha256, 'same bytes: only the name tells the projects apart');
  const release = { project: 'datadog-postgres', version: '1.0.0', wheelFileName: postgres.wheel.fileName, sha256: postgres.wheel.sha256 };
  // b's approval of datadog-redisdb, published at b's path under datadog-postgres.
  const replayed = tallyApprovals([{ file: postgres.target, bytes: postgres.bytes }, { file: postgres.target.replace(a.keyId, b.keyId), bytes: redis.bytes }], keysOf([a, b], 2), release);
  assert.deepEqual(replayed.accepted, [a.keyId]);
  assert.match(replayed.rejected[0]!.reason, /approves datadog_redisdb-1\.0\.0/);

  // One approval bundle signed by a twice over (two signatures, one key): one approver.
  const statement = renderApprovalStatement(approvalStatement({ project: 'datadog-postgres', version: '1.0.0', wheelFileName: release.wheelFileName, sha256: release.sha256, note: '', approvedAt: new Date() }));
  const once = await signAttestation(statement, [a]);
  const doubled = JSON.parse(new TextDecoder().decode(once.bytes)) as { dsseEnvelope: { signatures: unknown[] } };
  doubled.dsseEnvelope.signatures.push(doubled.dsseEnvelope.signatures[0]);
  const t1 = tallyApprovals([{ file: 'x', bytes: new TextEncoder().encode(JSON.stringify(doubled)) }], keysOf([a, b], 2), release);
  assert.deepEqual(t1.accepted, [a.keyId]);
  // Signed by both approvers: both did sign this very statement, so both count (once each).
  const both = await signAttestation(statement, [a, b]);
  assert.deepEqual(tallyApprovals([{ file: 'x', bytes: both.bytes }, { file: 'y', bytes: both.bytes }], keysOf([a, b], 2), release).accepted.sort(), [a.keyId, b.keyId].sort());
});
