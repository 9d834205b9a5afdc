// `repo reattest` with the new attestation key on a device: a SoftHSM2 token (pkcs11:) and a moto
// KMS server (awskms://), the key kinds src/signers/open-signer.ts opens. The private key never
// leaves the device; the re-attested releases install with the device key as their signer.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { openSigner } from '../../src/signers/open-signer.ts';
import type { Signer } from '../../src/signers/signer.ts';
import { publish, repoFixture, signedRelease } from '../download/helpers/fixture.ts';
import { download, expectRefused } from '../download/helpers/run.ts';
import { startMoto } from '../signers/helpers/moto.ts';
import { softHsm, useSoftHsm } from '../signers/helpers/softhsm.ts';
import { cli, publishLifecyclePolicy } from './helpers.ts';

const DEMO = 'datadog-demo';
const PIN = '246810';

async function reattestWithDeviceKey(t: Parameters<typeof repoFixture>[0], ref: string, env: NodeJS.ProcessEnv): Promise<void> {
  const fx = await repoFixture(t);
  await publish(fx, [await signedRelease(fx, DEMO, '1.0.0')]);
  const device: Signer = await openSigner(ref, { env, cwd: fx.dir });
  try {
    await publishLifecyclePolicy(fx, { keys: [device], revoked: [fx.attestation] });
  } finally {
    await device.close?.();
  }
  await expectRefused(fx, fx.repoDir, DEMO, 'E_ATTESTATION_KEY_REVOKED', 'verification');
  const re = await cli(['repo', 'reattest', '--all', '--repository', fx.repoDir, '--keys', fx.keysDir, '--key', ref, '--json'], fx.dir, env);
  assert.equal(re.code, 0, re.err);
  assert.deepEqual(JSON.parse(re.out).releases[0].keyIds, [device.keyId]);
  assert.deepEqual((await download(fx, fx.repoDir, DEMO)).attestation?.keyIds, [device.keyId]);
}

test('repo reattest with the new attestation key on a SoftHSM2 token (pkcs11:, P-256)', async (t) => {
  const hsm = await softHsm(t);
  useSoftHsm(t, hsm);
  await hsm.initToken('attest', PIN);
  await hsm.generate('attest', PIN, 'EC:prime256v1', '01', 'attestation-2');
  await reattestWithDeviceKey(t, hsm.uri('attest', 'attestation-2'), { PROVENANT_PKCS11_PIN: PIN, SOFTHSM2_CONF: hsm.conf });
});

test('repo reattest with the new attestation key in KMS (awskms://, ECC_NIST_P256, moto)', async (t) => {
  const kms = await startMoto(t);
  const key = await kms.createKey('ECC_NIST_P256');
  await kms.alias('alias/attestation-2', key.keyId);
  await reattestWithDeviceKey(t, 'awskms:///alias/attestation-2', kms.env);
});
