import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { readTarget } from '../../src/app/release-trust.ts';
import { POLICY_TARGET } from '../../src/formats/layout.ts';
import { openStorage } from '../../src/storage/open.ts';
import { tempDir } from '../helpers/peers.ts';

const hex = (algorithm: string, b: Uint8Array) => createHash(algorithm).update(b).digest('hex');

/**
 * The publisher reads trust targets (policy, Sigstore root) the way a host does: every hash the
 * metadata lists must match, not only sha256, and unknown algorithms are refused rather than
 * half checked.
 */
test('readTarget checks every listed hash, as hosts do', async (t) => {
  const storage = openStorage(await tempDir(t));
  const bytes = new TextEncoder().encode('{"policyVersion":1}');
  const sha256 = hex('sha256', bytes);
  await storage.put(`policy/${sha256}.attestation-policy.json`, bytes, { contentType: 'application/json' });
  const read = (hashes: Record<string, string>) => readTarget(storage, { [POLICY_TARGET]: { length: bytes.length, hashes } }, POLICY_TARGET, undefined);

  assert.deepEqual(await read({ sha256, sha512: hex('sha512', bytes) }), bytes);
  assert.equal(await readTarget(storage, {}, POLICY_TARGET, undefined), undefined);
  const bad: Record<string, string>[] = [{ sha256, sha512: 'ab'.repeat(64) }, { sha256: 'cd'.repeat(32) }, { sha256, md5: 'ef'.repeat(16) }, {}];
  for (const hashes of bad) {
    await assert.rejects(read(hashes), { code: 'E_TARGET_DIGEST' }, JSON.stringify(hashes));
  }
});
