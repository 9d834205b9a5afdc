import type { Release } from '../../src/app/publish.ts';
import { attestationKey, wheelKey } from '../../src/formats/layout.ts';
import { renderPointer } from '../../src/formats/pointer.ts';
import { sha256Hex } from '../../src/util/hash.ts';

/** A Release whose pointer pins exactly `wheel` and `attestation`, as `build` + `sign` would write it. */
export function pinnedRelease(project: string, version: string, wheel: Release['wheel'], attestation: Release['attestation']): Release {
  const pointer = new TextEncoder().encode(
    renderPointer({
      name: project,
      version,
      uri: wheelKey(project, wheel.fileName),
      digest: sha256Hex(wheel.bytes),
      length: wheel.bytes.byteLength,
      attestation: { uri: attestationKey(project, attestation.fileName), digest: sha256Hex(attestation.bytes), length: attestation.bytes.byteLength },
    }),
  );
  return { project, version, wheel, pointer, attestation };
}
