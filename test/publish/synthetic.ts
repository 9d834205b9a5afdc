import { renderPointer } from '../../src/formats/pointer.ts';
import { attestationKey, bundleFileName, wheelKey } from '../../src/formats/layout.ts';
import type { Release } from '../../src/app/publish.ts';
import { sha256Hex } from '../../src/util/hash.ts';

const enc = (s: string) => new TextEncoder().encode(s);

/**
 * A release made of synthetic bytes (no real build or signature): enough for the publish
 * protocol and TUF clients, which only ever check digests and lengths of these objects.
 * `salt` changes the wheel bytes, to test immutability.
 */
export function syntheticRelease(project: string, version: string, salt = ''): Release {
  const fileName = `${project.replace(/-/g, '_')}-${version}-py3-none-any.whl`;
  const wheel = enc(`synthetic wheel ${project} ${version}${salt}\n`);
  const metadata = enc(`Metadata-Version: 2.1\nName: ${project}\nVersion: ${version}\nRequires-Python: >=3.9\n\nSynthetic.\n`);
  const bundleName = bundleFileName(project, version);
  const attestation = enc(JSON.stringify({ synthetic: true, project, version, salt }));
  const pointer = enc(
    renderPointer({
      name: project,
      version,
      uri: wheelKey(project, fileName),
      digest: sha256Hex(wheel),
      length: wheel.byteLength,
      attestation: { uri: attestationKey(project, bundleName), digest: sha256Hex(attestation), length: attestation.byteLength },
    }),
  );
  return { project, version, wheel: { fileName, bytes: wheel, metadata }, pointer, attestation: { fileName: bundleName, bytes: attestation } };
}
