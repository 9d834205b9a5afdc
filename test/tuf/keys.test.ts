import assert from 'node:assert/strict';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { canonicalJson } from '../../src/formats/canonical-json.ts';
import { checkKeysOutsideRepository, createKey, loadSigner, signersForRole } from '../../src/signers/key-store.ts';
import { python, tempDir } from '../helpers/peers.ts';

// securesystemslib is what python-tuf uses to read key objects and verify signatures.
const PY_VERIFY = `
import hashlib, json, sys
from securesystemslib.formats import encode_canonical
from securesystemslib.signer import SSlibKey, Signature
req = json.loads(sys.argv[1])
out = []
for k in req["keys"]:
    key = SSlibKey.from_dict(k["keyid"], dict(k["public"]))
    key.verify_signature(Signature(k["keyid"], k["sig"]), bytes.fromhex(req["data"]))
    out.append(hashlib.sha256(encode_canonical(k["public"]).encode()).hexdigest())
print(json.dumps({"keyids": out, "canonical": encode_canonical(req["tricky"])}))
`;

test('ed25519 and ECDSA P-256 keys: TUF key objects, key ids and signatures securesystemslib accepts', async (t) => {
  const dir = await tempDir(t);
  const data = new TextEncoder().encode('{"signed":"bytes"}');
  const keys = [];
  for (const type of ['ed25519', 'ecdsa'] as const) {
    const entry = await createKey(dir, `k-${type}`, { type, roles: ['targets'] });
    const signer = await loadSigner(dir, `k-${type}`, {});
    assert.equal(signer.keyId, entry.keyid);
    assert.equal(signer.publicKey.keytype, type);
    if (type === 'ed25519') assert.match(signer.publicKey.keyval.public, /^[0-9a-f]{64}$/);
    else assert.match(signer.publicKey.keyval.public, /^-----BEGIN PUBLIC KEY-----\n/);
    assert.match(signer.publicKeyPem, /^-----BEGIN PUBLIC KEY-----/);
    assert.match(await readFile(path.join(dir, entry.file), 'utf8'), /^-----BEGIN PRIVATE KEY-----/);
    assert.equal((await stat(path.join(dir, entry.file))).mode & 0o777, 0o600);
    keys.push({ keyid: signer.keyId, public: signer.publicKey, sig: Buffer.from(await signer.sign(data)).toString('hex') });
  }
  const tricky = { b: [1, 'x"y\\z', true, null], a: { 'ü': 'ß', ' ': -5 } };
  const { stdout } = await python(['-c', PY_VERIFY, JSON.stringify({ keys, data: Buffer.from(data).toString('hex'), tricky })]);
  const res = JSON.parse(stdout) as { keyids: string[]; canonical: string };
  assert.deepEqual(res.keyids, keys.map((k) => k.keyid));
  assert.equal(canonicalJson(tricky), res.canonical);
});

test('encrypted keys: round trip with the passphrase from the environment; a wrong or missing one is E_KEY_PASSPHRASE', async (t) => {
  const dir = await tempDir(t);
  for (const type of ['ed25519', 'ecdsa'] as const) {
    const name = `enc-${type}`;
    const entry = await createKey(dir, name, { type, roles: ['root'], passphrase: 's3cret passphrase' });
    assert.equal(entry.encrypted, true);
    const pem = await readFile(path.join(dir, entry.file), 'utf8');
    assert.match(pem, /^-----BEGIN ENCRYPTED PRIVATE KEY-----/);
    assert.ok(!pem.includes('PRIVATE KEY-----\nMC4CAQAw'), 'no plaintext PKCS#8 body');
    const perKey = `PROVENANT_KEY_PASSPHRASE_ENC_${type.toUpperCase()}`;
    assert.equal((await loadSigner(dir, name, { [perKey]: 's3cret passphrase' })).keyId, entry.keyid);
    assert.equal((await loadSigner(dir, name, { PROVENANT_KEY_PASSPHRASE: 's3cret passphrase' })).keyId, entry.keyid);
    // The per-key variable wins over the generic one.
    assert.equal((await loadSigner(dir, name, { [perKey]: 's3cret passphrase', PROVENANT_KEY_PASSPHRASE: 'other' })).keyId, entry.keyid);
    await assert.rejects(loadSigner(dir, name, { PROVENANT_KEY_PASSPHRASE: 'wrong' }), (e: Error & { code?: string; hint?: string; file?: string }) => {
      assert.equal(e.code, 'E_KEY_PASSPHRASE');
      assert.match(e.hint!, new RegExp(perKey));
      assert.equal(e.file, path.join(dir, entry.file));
      return true;
    });
    await assert.rejects(loadSigner(dir, name, {}), { code: 'E_KEY_PASSPHRASE', message: /no passphrase/ });
    // Standard PKCS#8: Python's cryptography opens it with the same passphrase.
    const { stdout } = await python([
      '-c',
      'import sys; from cryptography.hazmat.primitives.asymmetric import ec, ed25519; from cryptography.hazmat.primitives.serialization import load_pem_private_key; k = load_pem_private_key(open(sys.argv[1], "rb").read(), b"s3cret passphrase"); print("ed25519" if isinstance(k, ed25519.Ed25519PrivateKey) else "ecdsa-" + k.curve.name if isinstance(k, ec.EllipticCurvePrivateKey) else "other")',
      path.join(dir, entry.file),
    ]);
    assert.equal(stdout.trim(), type === 'ed25519' ? 'ed25519' : 'ecdsa-secp256r1');
  }
});

test('missing keys are E_KEY_MISSING naming the role; a key store inside the repository is refused', async (t) => {
  const dir = await tempDir(t);
  await assert.rejects(loadSigner(dir, 'attestation', {}), { code: 'E_KEY_MISSING' });
  const k = await createKey(dir, 'online', { type: 'ed25519', roles: ['snapshot'] });
  await assert.rejects(signersForRole(dir, 'timestamp', ['0'.repeat(64)], 1, {}), (e: Error & { code?: string; field?: string }) => {
    assert.equal(e.code, 'E_KEY_MISSING');
    assert.equal(e.field, 'timestamp');
    assert.match(e.message, /role timestamp needs 1/);
    return true;
  });
  assert.equal((await signersForRole(dir, 'snapshot', [k.keyid], 1, {}))[0]!.keyId, k.keyid);
  await assert.rejects(createKey(dir, 'online', { type: 'ed25519', roles: [] }), { code: 'E_KEY_EXISTS' });
  assert.throws(() => checkKeysOutsideRepository('/srv/repo/keys', '/srv/repo'), { code: 'E_KEYS_IN_REPOSITORY' });
  assert.throws(() => checkKeysOutsideRepository('/srv/repo', '/srv/repo'), { code: 'E_KEYS_IN_REPOSITORY' });
  checkKeysOutsideRepository('/srv/keys', '/srv/repo');
  checkKeysOutsideRepository('/srv/repo-keys', '/srv/repo');
});
