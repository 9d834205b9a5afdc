import type { Release } from '../../src/app/publish.ts';
import { writeZip } from '../../src/build/zip.ts';
import { normalizeProjectName } from '../../src/formats/pep503.ts';
import { renderPointer } from '../../src/formats/pointer.ts';
import { attestationKey, wheelKey } from '../../src/formats/layout.ts';
import { sha256Hex } from '../../src/util/hash.ts';
import { createHash } from 'node:crypto';

/**
 * A small but real, pip-installable wheel and its release (pointer pinning wheel and attestation),
 * made in memory so the S3 tests can publish dozens of releases quickly. The attestation is an
 * unsigned placeholder document: these tests check storage, TUF and the index, not provenance.
 */
const enc = (s: string) => new TextEncoder().encode(s);

export function makeRelease(projectName: string, version: string): Release {
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
  const wheel = writeZip(
    files.map(([name, data]) => ({ name, data, mode: 0o100644 })),
    1_700_000_000,
  );
  const attestationFile = `${project}-${version}-attestation.sigstore.json`;
  const attestation = enc(`${JSON.stringify({ placeholder: true, subject: fileName, sha256: sha256Hex(wheel) })}\n`);
  const pointer = enc(
    renderPointer({
      name: project,
      version,
      uri: wheelKey(project, fileName),
      digest: sha256Hex(wheel),
      length: wheel.byteLength,
      attestation: { uri: attestationKey(project, attestationFile), digest: sha256Hex(attestation), length: attestation.byteLength },
    }),
  );
  return { project, version, wheel: { fileName, bytes: wheel, metadata }, pointer, attestation: { fileName: attestationFile, bytes: attestation } };
}

function recordHash(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('base64url');
}
