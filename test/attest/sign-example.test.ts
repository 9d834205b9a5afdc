import assert from 'node:assert/strict';
import { cp, readFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { verifyAttestationBundle } from '../../src/attest/verify.ts';
import { main } from '../../src/cli/main.ts';
import type { Output } from '../../src/cli/output.ts';
import { parsePointer } from '../../src/formats/pointer.ts';
import { defaultPolicy } from '../../src/policy/policy.ts';
import { parseStatement, provenanceFacts } from '../../src/provenance/parse.ts';
import { createKey, loadSigner } from '../../src/signers/key-store.ts';
import { sha256Hex } from '../../src/util/hash.ts';
import { REPO_ROOT, python, tempDir } from '../helpers/peers.ts';

function capture(): Output & { out: string; err: string } {
  const o = { out: '', err: '', interactive: false, stdout: (t: string) => void (o.out += t), stderr: (t: string) => void (o.err += t) };
  return o;
}

test('build then sign a real example: the pointer pins a bundle whose statement names the real wheel', async (t) => {
  const root = await tempDir(t);
  await cp(path.join(REPO_ROOT, 'examples/integrations'), root, { recursive: true });
  const keys = path.join(await tempDir(t), 'keys');
  await createKey(keys, 'attestation', { type: 'ed25519', roles: ['attestation'] });

  let o = capture();
  assert.equal(await main(['build', 'postgres', '--integrations-dir', root], o, {}, root), 0, o.err);
  o = capture();
  assert.equal(await main(['sign', 'postgres', '--integrations-dir', root, '--keys', keys, '--json'], o, {}, root), 0, o.err);
  const r = (JSON.parse(o.out) as { results: { bundle: { path: string }; pointer: { path: string } }[] }).results[0]!;

  const pointer = parsePointer(await readFile(r.pointer.path, 'utf8'), r.pointer.path);
  const bundle = await readFile(r.bundle.path);
  assert.equal(pointer.attestation.digest, sha256Hex(bundle));
  assert.equal(pointer.attestation.length, bundle.length);
  assert.equal(pointer.attestation.uri, `attestations/${pointer.name}/${path.basename(r.bundle.path)}`);
  const wheelPath = path.join(path.dirname(r.pointer.path), path.basename(pointer.uri));
  const wheel = await readFile(wheelPath);
  assert.equal(sha256Hex(wheel), pointer.digest);

  const signer = await loadSigner(keys, 'attestation', {});
  const v = verifyAttestationBundle(bundle, defaultPolicy({ attestationKeys: [signer] }));
  const facts = provenanceFacts(parseStatement(v.payload));
  assert.deepEqual(facts.subjects, [{ name: path.basename(wheelPath), sha256: pointer.digest }]);

  // Independently: Python cryptography over the PAE, with the key from the key store's public half.
  const { stdout } = await python(['-c', `
import base64, json, sys
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
env = json.load(open(sys.argv[1]))["dsseEnvelope"]
p = base64.b64decode(env["payload"]); t = env["payloadType"].encode()
Ed25519PublicKey.from_public_bytes(bytes.fromhex(sys.argv[2])).verify(base64.b64decode(env["signatures"][0]["sig"]), b"DSSEv1 %d %s %d %s" % (len(t), t, len(p), p))
print(json.loads(p)["subject"][0]["name"])
`, r.bundle.path, signer.publicKey.keyval.public]);
  assert.equal(stdout.trim(), path.basename(wheelPath));
});
