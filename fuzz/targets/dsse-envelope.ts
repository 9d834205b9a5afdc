/**
 * Fuzz target: a DSSE envelope (envelope.md's JSON), placed as the `dsseEnvelope` of a bundle
 * exactly as it is (bytes unchanged) and checked as the downloader checks attestations, so every
 * byte of the envelope reaches parseEnvelope and the signature check behind it.
 * Contract extra: anything accepted was signed, exactly, by one of this run's keys.
 */
import { BUNDLE_MEDIA_TYPE, parseAttestationBundle } from '../../src/attest/bundle.ts';
import { checkAttestationSignature } from '../../src/verify/attestation-check.ts';
import { assertSignedByThisRun, fillAttestation, POLICY } from '../lib/attestation-keys.ts';

const FILE = 'attestations/datadog-postgres/datadog-postgres-23.2.0-attestation.sigstore.json';
const HEAD = Buffer.from(`{"mediaType":${JSON.stringify(BUNDLE_MEDIA_TYPE)},"verificationMaterial":{"publicKey":{},"tlogEntries":[]},"dsseEnvelope":`);
const TAIL = Buffer.from('}');

export async function fuzz(data: Buffer): Promise<void> {
  const bytes = Buffer.concat([HEAD, await fillAttestation(data), TAIL]);
  const { payload } = await checkAttestationSignature(bytes, POLICY, FILE);
  assertSignedByThisRun(parseAttestationBundle(bytes, FILE).envelope.payloadType, payload);
}

export const prepare = fillAttestation;
