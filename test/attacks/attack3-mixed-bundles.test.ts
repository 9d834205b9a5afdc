import { test } from 'node:test';
import { signAttestationKeyless } from '../../src/attest/sign.ts';
import { verifyAttestation } from '../../src/attest/verify.ts';
import { defaultPolicy } from '../../src/policy/policy.ts';
import { testSigner } from '../attest/keys.ts';
import { bytesOf, expectCode, json, keylessConfig, otherStatementBytes, releaseIdentity, RUN } from '../keyless/helpers/keyless.ts';
import { startSigstore } from '../keyless/helpers/sigstore.ts';

/**
 * Attack (capacity D): bundles that mix what they should not, each against a real loopback
 * Fulcio/Rekor/CT log. All are refused by the existing code; these tests keep it so.
 */
const STATEMENT = new TextEncoder().encode('{"_type":"https://in-toto.io/Statement/v1","subject":[{"name":"x-1.0.0-py3-none-any.whl","digest":{"sha256":"' + 'ab'.repeat(32) + '"}}],"predicateType":"https://slsa.dev/provenance/v1","predicate":{}}\n');
type Bundle = { verificationMaterial: { tlogEntries: unknown[]; publicKey?: unknown } };

test('attack3 D: two tlog entries, one for this envelope and one for another artifact (either order); a key hint next to the certificate; a keyless bundle against a keys-only policy', async (t) => {
  const s = await startSigstore(t);
  const policy = defaultPolicy({ attestationKeys: [], identities: [releaseIdentity(s)] });
  const opts = { sigstoreTrustedRoot: async () => s.trustedRootBytes };
  const good = (await signAttestationKeyless(STATEMENT, keylessConfig(s, RUN))).bytes;
  // Another second, so the two entries' integrated times differ (@sigstore/verify refuses duplicate times first).
  await new Promise((r) => setTimeout(r, 1100));
  const other = (await signAttestationKeyless(await otherStatementBytes(), keylessConfig(s, RUN))).bytes;
  await verifyAttestation(good, policy, opts);
  const goodEntry = (json(good) as Bundle).verificationMaterial.tlogEntries[0];
  const otherEntry = (json(other) as Bundle).verificationMaterial.tlogEntries[0];
  for (const entries of [[goodEntry, otherEntry], [otherEntry, goodEntry]]) {
    const b = json(good) as Bundle;
    b.verificationMaterial.tlogEntries = entries;
    await expectCode(verifyAttestation(bytesOf(b), policy, opts), 'E_ATTESTATION_TLOG_BODY');
  }
  // The same good entry twice does not pass as two: its time is a duplicate.
  const twice = json(good) as Bundle;
  twice.verificationMaterial.tlogEntries = [goodEntry, goodEntry];
  await expectCode(verifyAttestation(bytesOf(twice), policy, opts), 'E_ATTESTATION_TIMESTAMP');

  const key = testSigner('ed25519');
  const hinted = json(good) as Bundle;
  hinted.verificationMaterial.publicKey = { hint: key.keyId };
  const both = defaultPolicy({ attestationKeys: [key], identities: [releaseIdentity(s)] });
  await expectCode(verifyAttestation(bytesOf(hinted), both, opts), 'E_ATTESTATION_MALFORMED');
  await expectCode(verifyAttestation(good, defaultPolicy({ attestationKeys: [key] }), opts), 'E_ATTESTATION_KEY_UNTRUSTED');
});
