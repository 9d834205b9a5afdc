import assert from 'node:assert/strict';
import { test } from 'node:test';
import { policyKeyObject, trustedKeys } from '../../src/attest/keys.ts';
import { ProvenantError } from '../../src/errors.ts';
import { allowedBy, matchesPattern } from '../../src/policy/pattern.ts';
import { defaultPolicy, parsePolicy, renderPolicy } from '../../src/policy/policy.ts';
import { LOCAL_BUILDER_ID } from '../../src/provenance/builders.ts';
import { testSigner } from './keys.ts';

test('patterns: whole-value match, `*` spans any run (slashes too), nothing else is special', () => {
  const yes: [string, string][] = [
    ['https://github.com/DataDog/*', 'https://github.com/DataDog/integrations-core/.github/workflows/release.yml@refs/tags/v1'],
    ['refs/tags/v*', 'refs/tags/v1.2.3'],
    ['refs/tags/v*', 'refs/tags/v'],
    ['*', ''],
    ['a*b*c', 'abc'],
    ['a*b*c', 'axxbyybzzc'],
    ['exact', 'exact'],
    ['*.yml@refs/heads/main', 'https://github.com/o/r/.github/workflows/x.yml@refs/heads/main'],
  ];
  const no: [string, string][] = [
    ['https://github.com/DataDog/*', 'https://github.com/DataDogEvil/x'],
    ['https://github.com/DataDog/*', 'https://github.com/datadog/x'],
    ['refs/tags/v*', 'refs/heads/v1'],
    ['exact', 'exact2'],
    ['exact', 'xexact'],
    ['a*b*c', 'acb'],
    ['a*a', 'a'],
    ['a.c', 'abc'],
    ['a?c', 'abc'],
    ['*main', 'main-evil'],
  ];
  for (const [p, v] of yes) assert.ok(matchesPattern(p, v), `${p} should match ${v}`);
  for (const [p, v] of no) assert.ok(!matchesPattern(p, v), `${p} should not match ${v}`);
  assert.ok(allowedBy([], 'anything'));
  assert.ok(!allowedBy(['x'], 'y'));
});

test('defaultPolicy: the given keys, threshold 1, local + GitHub builders; renders and parses back', () => {
  const a = testSigner('ed25519');
  const b = testSigner('ecdsa');
  const p = defaultPolicy({ attestationKeys: [a, b] });
  assert.deepEqual(Object.keys(p.attestation.keys).sort(), [a.keyId, b.keyId].sort());
  assert.equal(p.attestation.threshold, 1);
  assert.deepEqual(p.provenance.builders, [LOCAL_BUILDER_ID, 'https://github.com/*']);
  assert.deepEqual(p.provenance.refs, []);
  assert.equal(p.allowUnsafeDisableVerification, false);
  assert.deepEqual(parsePolicy(renderPolicy(p), 'p.json'), p);
  assert.equal(trustedKeys(p).size, 2);
  const narrow = defaultPolicy({ attestationKeys: [a], builders: ['https://github.com/DataDog/*'], refs: ['refs/tags/*'], sourceRepositories: ['https://github.com/DataDog/integrations-core'] });
  assert.deepEqual(narrow.provenance.builders, ['https://github.com/DataDog/*']);
});

test('policy refusals: threshold above the key count, no keys, bad key material, type mismatch', () => {
  const a = testSigner('ed25519');
  const b = testSigner('ecdsa');
  const isPolicyError = (field?: string) => (e: unknown) => e instanceof ProvenantError && e.code === 'E_POLICY_INVALID' && (field === undefined || e.field === field);
  assert.throws(() => defaultPolicy({ attestationKeys: [a], threshold: 2 }), isPolicyError('attestation.threshold'));
  assert.throws(() => defaultPolicy({ attestationKeys: [] }), isPolicyError('attestation.threshold'));
  assert.throws(() => defaultPolicy({ attestationKeys: [a], builders: [] }), isPolicyError('provenance.builders'));
  assert.throws(() => parsePolicy(new TextEncoder().encode('{'), 'p.json'), isPolicyError());
  // An ecdsa PEM declared as ed25519, and garbage: refused when the keys are read.
  assert.throws(() => policyKeyObject(b.keyId, { keytype: 'ed25519', scheme: 'ed25519', keyval: { public: b.publicKeyPem } }), isPolicyError(`attestation.keys.${b.keyId}.keyval.public`));
  assert.throws(() => policyKeyObject(a.keyId, { keytype: 'ecdsa', scheme: 'ecdsa-sha2-nistp256', keyval: { public: a.publicKey.keyval.public } }), isPolicyError());
  assert.throws(() => policyKeyObject(a.keyId, { keytype: 'ed25519', scheme: 'ed25519', keyval: { public: '-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----' } }), isPolicyError());
  // ed25519 as SPKI PEM is accepted as well as raw hex, and is the same key.
  const pem = policyKeyObject(a.keyId, { keytype: 'ed25519', scheme: 'ed25519', keyval: { public: a.publicKeyPem } });
  const hex = policyKeyObject(a.keyId, a.publicKey);
  assert.ok(pem.equals(hex));
});
