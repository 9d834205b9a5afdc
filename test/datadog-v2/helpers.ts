import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { Release } from '../../src/app/publish.ts';
import { ddWheelKey, DDV2_ROLE, renderDdPointer, type DdPointer } from '../../src/formats/datadog-v2.ts';
import { sha256Hex } from '../../src/util/hash.ts';
import { targetObjectKey } from '../../src/formats/layout.ts';
import { objectPropsFor } from '../../src/storage/object-props.ts';
import { binWithTargets, expiresFor, targetFile } from '../../src/tuf/changes.ts';
import { loadBin, loadTrustedState } from '../../src/tuf/trusted-state.ts';
import { commitChanges } from '../../src/tuf/writer.ts';
import type { RepoFixture } from '../download/helpers/fixture.ts';
import { python } from '../helpers/peers.ts';

const CLIENT = path.join(import.meta.dirname, 'dd_v2_client.py');

/**
 * python-tuf with Datadog's v2 downloader settings (dd_v2_client.py): the wheel's path, or the
 * exit code and stderr when it refuses.
 */
export async function ddClient(fx: RepoFixture, url: string, project: string, version?: string): Promise<{ code: number; path: string; err: string }> {
  const dest = path.join(fx.dir, `dd-dest-${project}-${version ?? 'latest'}-${Math.random().toString(36).slice(2)}`);
  await mkdir(dest, { recursive: true });
  try {
    const { stdout, stderr } = await python([CLIENT, url, fx.rootFile, path.join(fx.dir, 'dd-metadata'), dest, project, ...(version ? [version] : [])]);
    return { code: 0, path: stdout.trim(), err: stderr };
  } catch (e) {
    const err = e as { code?: number; stderr?: string };
    return { code: typeof err.code === 'number' ? err.code : -1, path: '', err: err.stderr ?? String(e) };
  }
}

/**
 * What a holder of the online key alone can do to the `wheelsmith` role: sign any targets into it
 * (replacing what is there), upload their files, and commit a new snapshot and timestamp.
 */
export async function forgeWheelsmith(fx: RepoFixture, add: { path: string; bytes: Uint8Array }[]): Promise<void> {
  const state = await loadTrustedState(fx.storage);
  const role = await loadBin(fx.storage, state, DDV2_ROLE);
  const targets = add.map((a) => targetFile(a.path, a.bytes));
  for (const [i, t] of targets.entries()) {
    const key = targetObjectKey(t.path, t.hashes.sha256!, 'datadog-v2');
    await fx.storage.putImmutable(key, add[i]!.bytes, objectPropsFor(key));
  }
  const now = new Date();
  const next = binWithTargets(role.signed, targets, role.signed.version + 1, expiresFor(state.config, 'bins', now), () => true);
  const changes = { bins: new Map([[DDV2_ROLE, next]]) };
  // The online key alone: were wheelsmith ever signed by an offline key, this forge must fail.
  const online = [fx.online];
  await commitChanges(fx.storage, state, { root: [], targets: [], bins: online, snapshot: online, timestamp: online }, changes, now);
}

/** A Datadog pointer pinning `release`'s published wheel and attestation, with `over` changed. */
export function ddPointerFor(release: Release, over: Partial<DdPointer>): Uint8Array {
  return renderDdPointer({
    digest: sha256Hex(release.wheel.bytes),
    length: release.wheel.bytes.byteLength,
    version: release.version,
    wheel_path: `/${ddWheelKey(release.project, release.wheel.fileName)}`,
    attestation_path: `/attestations/${release.project}/${release.version}.sigstore.json`,
    attestation_digest: sha256Hex(release.attestation.bytes),
    attestation_length: release.attestation.bytes.byteLength,
    ...over,
  });
}
