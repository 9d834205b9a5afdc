import { createHash } from 'node:crypto';
import type { Release } from '../../src/app/publish.ts';
import { signAttestation } from '../../src/attest/sign.ts';
import { writeZip } from '../../src/wheel/zip.ts';
import { normalizeProjectName } from '../../src/formats/pep503.ts';
import { LOCAL_BUILDER_ID } from '../../src/provenance/builders.ts';
import { makeStatement, renderStatement } from '../../src/provenance/statement.ts';
import type { Signer } from '../../src/signers/signer.ts';
import { sha256Hex } from '../../src/util/hash.ts';
import { pinnedRelease } from '../helpers/release.ts';

/**
 * A small but real, pip-installable wheel and its release (pointer pinning wheel and attestation),
 * made in memory so the S3 tests can publish dozens of releases quickly. `makeRelease` carries an
 * unsigned placeholder attestation (enough for TUF, the index and pip); `makeSignedRelease` a real
 * SLSA v1 statement signed with the repository's attestation key, which `provenant download` accepts.
 */
const enc = (s: string) => new TextEncoder().encode(s);

interface Wheel {
  project: string;
  version: string;
  fileName: string;
  bytes: Uint8Array;
  metadata: Uint8Array;
}

function makeWheel(projectName: string, version: string): Wheel {
  const project = normalizeProjectName(projectName);
  const dist = project.replace(/-/g, '_');
  const fileName = `${dist}-${version}-py3-none-any.whl`;
  const metadata = enc(`Metadata-Version: 2.1\nName: ${project}\nVersion: ${version}\nRequires-Python: >=3.8\n\n`);
  const info = `${dist}-${version}.dist-info`;
  const files: [string, Uint8Array][] = [
    [`${dist}/__init__.py`, enc(`VERSION = ${JSON.stringify(version)}\n`)],
    [`${info}/METADATA`, metadata],
    [`${info}/WHEEL`, enc('Wheel-Version: 1.0\nGenerator: provenant-tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n')],
  ];
  const record = [...files.map(([n, d]) => `${n},sha256=${recordHash(d)},${d.byteLength}`), `${info}/RECORD,,`, ''].join('\n');
  files.push([`${info}/RECORD`, enc(record)]);
  const bytes = writeZip(
    files.map(([name, data]) => ({ name, data, mode: 0o100644 })),
    1_700_000_000,
  );
  return { project, version, fileName, bytes, metadata };
}

function assemble(w: Wheel, attestation: Uint8Array): Release {
  const attestationFile = `${w.project}-${w.version}-attestation.sigstore.json`;
  return pinnedRelease(w.project, w.version, { fileName: w.fileName, bytes: w.bytes, metadata: w.metadata }, { fileName: attestationFile, bytes: attestation });
}

export function makeRelease(projectName: string, version: string): Release {
  const w = makeWheel(projectName, version);
  return assemble(w, enc(`${JSON.stringify({ placeholder: true, subject: w.fileName, sha256: sha256Hex(w.bytes) })}\n`));
}

export async function makeSignedRelease(projectName: string, version: string, signer: Signer): Promise<Release> {
  const w = makeWheel(projectName, version);
  const statement = makeStatement('slsa-v1', {
    subject: { name: w.fileName, sha256: sha256Hex(w.bytes) },
    integration: w.project,
    context: { environment: 'local', builderId: LOCAL_BUILDER_ID, invocationId: `test-${w.project}-${version}`, sourceTree: 'unknown', notes: [] },
    sourceDateEpoch: 1_700_000_000,
    startedOn: new Date(1_700_000_000_000),
    finishedOn: new Date(1_700_000_001_000),
  });
  return assemble(w, (await signAttestation(renderStatement(statement), [signer])).bytes);
}

function recordHash(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('base64url');
}
