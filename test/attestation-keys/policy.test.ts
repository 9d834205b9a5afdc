import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { trustedKeys } from '../../src/attest/keys.ts';
import { verifyAttestationBundle } from '../../src/attest/verify.ts';
import { signAttestation } from '../../src/attest/sign.ts';
import { attestationKeyStatus, checkKeysMayAttest } from '../../src/policy/attestation-keys.ts';
import { parsePolicy, renderPolicy } from '../../src/policy/policy.ts';
import { repoFixture, rogueSigner } from '../download/helpers/fixture.ts';
import { cli, lifecyclePolicy } from './helpers.ts';

const enc = (s: string) => new TextEncoder().encode(s);

test('a key both trusted and revoked is a policy error, by key id or by the same key under another id', () => {
  const a = rogueSigner();
  const b = rogueSigner();
  const both = JSON.parse(new TextDecoder().decode(renderPolicy(lifecyclePolicy({ keys: [a, b] })))) as { attestation: { revokedKeys?: unknown; keys: Record<string, unknown> } };
  both.attestation.revokedKeys = { [a.keyId]: both.attestation.keys[a.keyId] };
  assert.throws(() => parsePolicy(enc(JSON.stringify(both)), 'p.json'), (e: { code?: string; field?: string }) => e.code === 'E_POLICY_INVALID' && e.field === 'attestation.revokedKeys');
  // The same key material under another (made-up) id: caught where keys are read, before any verification.
  both.attestation.revokedKeys = { ['0'.repeat(64)]: both.attestation.keys[a.keyId] };
  const policy = parsePolicy(enc(JSON.stringify(both)), 'p.json');
  assert.throws(() => trustedKeys(policy), { code: 'E_POLICY_INVALID' });
});

test('a retired key must stay listed in attestation.keys', () => {
  const a = rogueSigner();
  const p = JSON.parse(new TextDecoder().decode(renderPolicy(lifecyclePolicy({ keys: [a] })))) as { attestation: { retiredKeys?: string[] } };
  p.attestation.retiredKeys = ['f'.repeat(64)];
  assert.throws(() => parsePolicy(enc(JSON.stringify(p)), 'p.json'), (e: { code?: string; field?: string }) => e.code === 'E_POLICY_INVALID' && e.field === 'attestation.retiredKeys');
});

test('key status and who may attest: trusted yes; retired, revoked and unknown keys no, each with its code', async () => {
  const [trusted, retired, revoked, unknown] = [rogueSigner(), rogueSigner(), rogueSigner(), rogueSigner()];
  const policy = lifecyclePolicy({ keys: [trusted, retired], retired: [retired], revoked: [revoked] });
  assert.deepEqual([trusted, retired, revoked, unknown].map((s) => attestationKeyStatus(policy, s.keyId)), ['trusted', 'retired', 'revoked', 'unknown']);
  checkKeysMayAttest(policy, [trusted.keyId], '--key');
  for (const [s, code] of [[retired, 'E_ATTESTATION_KEY_RETIRED'], [revoked, 'E_ATTESTATION_KEY_REVOKED'], [unknown, 'E_ATTESTATION_KEY_UNTRUSTED']] as const) {
    assert.throws(() => checkKeysMayAttest(policy, [s.keyId], '--key'), { code });
  }
  // Verification: a retired key still verifies; a revoked key never counts, even beside a trusted one at threshold 2.
  const statement = enc('{"_type":"x"}');
  assert.deepEqual(verifyAttestationBundle((await signAttestation(statement, [retired])).bytes, policy).keyIds, [retired.keyId]);
  const byRevoked = (await signAttestation(statement, [revoked])).bytes;
  assert.throws(() => verifyAttestationBundle(byRevoked, policy), { code: 'E_ATTESTATION_KEY_REVOKED' });
  const two = { ...policy, attestation: { ...policy.attestation, threshold: 2 } };
  const mixed = (await signAttestation(statement, [trusted, revoked])).bytes;
  assert.throws(() => verifyAttestationBundle(mixed, two), (e: { code?: string; message?: string }) => e.code === 'E_ATTESTATION_KEY_REVOKED' && /only 1 trusted key/.test(e.message ?? ''));
  // At threshold 1 the trusted signature suffices; the revoked one is ignored.
  assert.deepEqual(verifyAttestationBundle(mixed, policy).keyIds, [trusted.keyId]);
});


test('repo set-trust refuses a policy that trusts and revokes the same key under two ids, before writing anything', async (t) => {
  const fx = await repoFixture(t);
  const p = JSON.parse(new TextDecoder().decode(renderPolicy(lifecyclePolicy({ keys: [fx.attestation] })))) as { attestation: { revokedKeys?: unknown; keys: Record<string, unknown> } };
  p.attestation.revokedKeys = { ['0'.repeat(64)]: p.attestation.keys[fx.attestation.keyId] };
  await writeFile(path.join(fx.dir, 'policy.json'), JSON.stringify(p));
  const before = await readFile(path.join(fx.repoDir, 'metadata/timestamp.json'));
  const r = await cli(['repo', 'set-trust', '--policy', 'policy.json', '--repository', fx.repoDir, '--keys', fx.keysDir], fx.dir);
  assert.equal(r.code, 3, r.err);
  assert.match(r.err, /E_POLICY_INVALID: attestation key .* is also revoked/);
  assert.deepEqual(await readFile(path.join(fx.repoDir, 'metadata/timestamp.json')), before);
});
