/**
 * Fuzz target: the attestation bundle file (Sigstore bundle v0.3 around a DSSE envelope) as the
 * downloader checks it, checkAttestationSignature against a policy that trusts this run's keys.
 * Seeds are templates whose `@@sig:…@@` placeholders are signed here with this run's keys.
 * Contract extra: anything accepted was signed, exactly, by one of those keys.
 */
import { checkAttestationSignature } from '../../src/verify/attestation-check.ts';
import { parseAttestationBundle } from '../../src/attest/bundle.ts';
import { assertSignedByThisRun, fillAttestation, POLICY } from '../lib/attestation-keys.ts';

const FILE = 'attestations/datadog-postgres/datadog-postgres-23.2.0-attestation.sigstore.json';

export async function fuzz(data: Buffer): Promise<void> {
  const bytes = await fillAttestation(data);
  const { payload } = await checkAttestationSignature(bytes, POLICY, FILE);
  assertSignedByThisRun(parseAttestationBundle(bytes, FILE).envelope.payloadType, payload);
}

/** The seed with real signatures, for mutants of signed documents. */
export const prepare = fillAttestation;
