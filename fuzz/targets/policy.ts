/**
 * Fuzz target: the attestation policy (a TUF target) as the downloader uses it: parsePolicy,
 * the keys it lists (trustedKeys, inside the signature check) against a real attestation signed
 * by this run's keys, and the provenance rules against that attestation's statement.
 * Seeds are templates: `@@keyid:…@@` / `@@public:…@@` are this run's attestation keys.
 * Contract extra: the attestation verifies only under a policy that lists a key that signed it.
 */
import { POLICY_TARGET } from '../../src/formats/layout.ts';
import { parsePolicy } from '../../src/policy/policy.ts';
import { signAttestation } from '../../src/attest/sign.ts';
import { trustedKeys } from '../../src/attest/keys.ts';
import { checkAttestationSignature, checkProvenancePolicy, checkStatementTypes } from '../../src/verify/attestation-check.ts';
import { isProvenantError } from '../../src/errors.ts';
import { ATTESTATION_KEYS, keyValues } from '../lib/attestation-keys.ts';
import { fill, latin1 } from '../lib/placeholders.ts';
import { readFileSync } from 'node:fs';

const FILE = 'attestations/datadog-postgres/datadog-postgres-23.2.0-attestation.sigstore.json';
// The statement provenant's own build wrote for the example postgres integration.
const statement = readFileSync(new URL('../corpus/statement/seed-datadog-postgres-slsa-v1.json', import.meta.url));
const bundle = (await signAttestation(statement, [ATTESTATION_KEYS.attestation!, ATTESTATION_KEYS['attestation-ed25519']!])).bytes;
const facts = checkStatementTypes(statement, FILE);
const signerIdentities = new Set(Object.values(ATTESTATION_KEYS).map((k) => k.publicKeyPem.replace(/\s+/g, '')));

export async function fuzz(data: Buffer): Promise<void> {
  const policy = parsePolicy(latin1.bytes(fill(latin1.text(data), keyValues())), POLICY_TARGET);
  let refused: unknown;
  try {
    const verified = await checkAttestationSignature(bundle, policy, FILE);
    const keys = trustedKeys(policy);
    for (const id of verified.keyIds) {
      const pem = keys.get(id)!.key.export({ type: 'spki', format: 'pem' }).toString().replace(/\s+/g, '');
      if (!signerIdentities.has(pem)) throw new Error(`KEY NOT IN POLICY ACCEPTED: policy key ${id} is not a key that signed the attestation`);
    }
  } catch (e) {
    if (!isProvenantError(e)) throw e;
    refused = e;
  }
  // The provenance rules are checked even when the signature was refused, to reach them with every policy.
  checkProvenancePolicy(facts, policy, FILE);
  if (refused) throw refused;
}
