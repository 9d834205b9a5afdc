import assert from 'node:assert/strict';
import { symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { closeAll } from '../../src/signers/key-store.ts';
import { openSigner } from '../../src/signers/open-signer.ts';
import type { Signer } from '../../src/signers/signer.ts';
import { isError } from './helpers/errors.ts';
import { softHsm, useSoftHsm } from './helpers/softhsm.ts';
import { sslibKeyIds } from './helpers/sslib.ts';

// Each test has its own SoftHSM configuration and tokens. That a later test finds its tokens at
// all shows the module is finalised when the last key of the previous test is closed.

const PIN = '246810';


test('ECDSA P-256, P-384 and Ed25519 keys made on a SoftHSM token: public key read from the token, TUF key ids and signatures securesystemslib accepts', async (t) => {
  const hsm = await softHsm(t);
  useSoftHsm(t, hsm);
  await hsm.initToken('signing', PIN);
  await hsm.generate('signing', PIN, 'EC:prime256v1', '01', 'p256');
  await hsm.generate('signing', PIN, 'EC:secp384r1', '02', 'p384');
  await hsm.generate('signing', PIN, 'EC:edwards25519', '03', 'ed25519');
  const signers: Signer[] = [];
  t.after(() => closeAll(signers));
  for (const label of ['p256', 'p384', 'ed25519']) signers.push(await openSigner(hsm.uri('signing', label, `pin-value=${PIN}`), { env: {}, cwd: hsm.dir }));
  // The key can also be named by its CKA_ID alone (RFC 7512 percent-encoded bytes), and the
  // module by another path to the same library (distributions ship such symlinks) while it is in use.
  const link = path.join(hsm.dir, 'module-link.so');
  await symlink(hsm.module, link);
  signers.push(await openSigner(`pkcs11:token=signing;id=%02?module-path=${link}&pin-value=${PIN}`, { env: {}, cwd: hsm.dir }));

  assert.deepEqual(
    signers.map((s) => [s.publicKey.keytype, s.publicKey.scheme]),
    [['ecdsa', 'ecdsa-sha2-nistp256'], ['ecdsa', 'ecdsa-sha2-nistp384'], ['ed25519', 'ed25519'], ['ecdsa', 'ecdsa-sha2-nistp384']],
  );
  assert.equal(signers[3]!.keyId, signers[1]!.keyId, 'the same key by label and by id');
  assert.match(signers[0]!.publicKey.keyval.public, /^-----BEGIN PUBLIC KEY-----\n/);
  assert.match(signers[2]!.publicKey.keyval.public, /^[0-9a-f]{64}$/);
  // Several signatures each, so DER encoding of r and s with and without a leading zero byte is exercised.
  for (let i = 0; i < 4; i++) {
    const data = new TextEncoder().encode(`{"signed":{"_type":"timestamp","version":${i}}}`);
    assert.deepEqual(await sslibKeyIds(signers.slice(0, 3), data), signers.slice(0, 3).map((s) => s.keyId));
  }
});

test('the PIN comes from pin-source, PROVENANT_PKCS11_PIN_<NAME> or PROVENANT_PKCS11_PIN; none, or a wrong one, is E_PKCS11_PIN', async (t) => {
  const hsm = await softHsm(t);
  useSoftHsm(t, hsm);
  await hsm.initToken('pins', PIN);
  await hsm.generate('pins', PIN, 'EC:prime256v1', '0a', 'online');
  const opened: Signer[] = [];
  t.after(() => closeAll(opened));
  const open = async (ref: string, env: NodeJS.ProcessEnv = {}, keyName?: string) => {
    const s = await openSigner(ref, { env, cwd: hsm.dir, ...(keyName ? { keyName } : {}) });
    opened.push(s);
    return s;
  };
  await writeFile(path.join(hsm.dir, 'pin.txt'), `${PIN}\n`, { mode: 0o600 });
  const a = await open(hsm.uri('pins', 'online', 'pin-source=pin.txt'));
  const b = await open(hsm.uri('pins', 'online', `pin-source=file://${path.join(hsm.dir, 'pin.txt')}`));
  const c = await open(hsm.uri('pins', 'online'), { PROVENANT_PKCS11_PIN_ONLINE: PIN, PROVENANT_PKCS11_PIN: 'not-this' }, 'online');
  const d = await open(hsm.uri('pins', 'online'), { PROVENANT_PKCS11_PIN: PIN });
  assert.equal(new Set([a, b, c, d].map((s) => s.keyId)).size, 1);
  // Login is per token and process: while a session is logged in, C_Login does not check a PIN again.
  await closeAll(opened.splice(0));

  await assert.rejects(open(hsm.uri('pins', 'online')), isError('E_PKCS11_PIN', /needs a PIN/, PIN));
  await assert.rejects(open(hsm.uri('pins', 'online', 'pin-value=135799')), isError('E_PKCS11_PIN', /wrong PIN for token pins/, PIN));
  await assert.rejects(open(hsm.uri('pins', 'online'), { PROVENANT_PKCS11_PIN: '135799' }), isError('E_PKCS11_PIN', /wrong PIN/, PIN));
  await assert.rejects(open(hsm.uri('pins', 'online', 'pin-source=missing-pin.txt')), isError('E_PKCS11_PIN', /cannot read the PIN file/, PIN));
});

test('a missing token, a missing or ambiguous key, an RSA key, no or a wrong module: each refused with its code and a fix', async (t) => {
  const hsm = await softHsm(t);
  useSoftHsm(t, hsm);
  await hsm.initToken('alpha', PIN);
  await hsm.initToken('beta', PIN);
  await hsm.generate('alpha', PIN, 'rsa:2048', '04', 'rsa');
  await hsm.generate('alpha', PIN, 'EC:prime256v1', '05', 'twin');
  await hsm.generate('alpha', PIN, 'EC:prime256v1', '06', 'twin');
  const open = (ref: string, env: NodeJS.ProcessEnv = {}) => openSigner(ref, { env, cwd: hsm.dir });
  const pin = `pin-value=${PIN}`;

  await assert.rejects(open(hsm.uri('gamma', 'twin', pin)), isError('E_PKCS11_TOKEN', /no token matches .*tokens present: .*alpha/, PIN));
  await assert.rejects(open(`pkcs11:object=twin?module-path=${hsm.module}&${pin}`), isError('E_PKCS11_TOKEN', /2 tokens match/, PIN));
  await assert.rejects(open(hsm.uri('alpha', 'nokey', pin)), isError('E_PKCS11_OBJECT', /no private key matching .*private keys there: .*rsa/, PIN));
  await assert.rejects(open(hsm.uri('alpha', 'twin', pin)), isError('E_PKCS11_OBJECT', /2 private keys/, PIN));
  await assert.rejects(open(hsm.uri('alpha', 'rsa', pin)), isError('E_KEY_TYPE', /an RSA key/, PIN));
  await assert.rejects(open(`pkcs11:token=alpha;object=twin;id=%05?${pin}`), isError('E_PKCS11_MODULE', /no PKCS#11 module/, PIN));
  await assert.rejects(open(`pkcs11:token=alpha;object=twin;id=%05?module-path=${path.join(hsm.dir, 'nope.so')}&${pin}`), isError('E_PKCS11_MODULE', /cannot load/, PIN));
  // With the module from the environment and an id that picks one of the twins, it opens.
  const s = await open(`pkcs11:token=alpha;object=twin;id=%05?${pin}`, { PROVENANT_PKCS11_MODULE: hsm.module });
  await s.close?.();
});
