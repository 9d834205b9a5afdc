import assert from 'node:assert/strict';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import type { Release } from '../../src/app/publish.ts';
import { attestationKey, consistentTargetPath, pointerTargetPath, wheelKey } from '../../src/formats/layout.ts';
import { parsePointer } from '../../src/formats/pointer.ts';
import { objectPropsFor } from '../../src/storage/object-props.ts';
import { sha256Hex } from '../../src/util/hash.ts';
import { publish, repoFixture, signedRelease, type RepoFixture } from '../download/helpers/fixture.ts';
import { download, expectRefused } from '../download/helpers/run.ts';

/*
 * Holding only the attestation key (and write access to the bucket, the most it could come with),
 * an attacker signs a genuine-looking attestation for a wheel of their own and places it where
 * hosts look. Without the online key no TUF metadata names it, so nothing a host installs changes.
 */

const DEMO = 'datadog-demo';

/** The attacker's release for `version`: their wheel, an attestation by the real attestation key. */
const evilRelease = (fx: RepoFixture, version: string) => signedRelease(fx, DEMO, version, { size: 6666 });

async function put(fx: RepoFixture, key: string, bytes: Uint8Array): Promise<void> {
  await mkdir(path.dirname(path.join(fx.repoDir, key)), { recursive: true });
  await writeFile(path.join(fx.repoDir, key), bytes);
}

const placements: { attack: string; code: string; version?: string; place: (fx: RepoFixture, evil: Release) => Promise<void> }[] = [
  {
    attack: 'their wheel and attestation over the published ones',
    code: 'E_WHEEL_LENGTH',
    place: async (fx, evil) => {
      await put(fx, wheelKey(DEMO, evil.wheel.fileName), evil.wheel.bytes);
      await put(fx, attestationKey(DEMO, evil.attestation.fileName), evil.attestation.bytes);
    },
  },
  {
    attack: 'their pointer over the published one, at its consistent-snapshot name',
    code: 'E_TARGET_DIGEST',
    place: async (fx, evil) => {
      const published = (await readdir(path.join(fx.repoDir, 'pointers', DEMO)))[0]!;
      await put(fx, wheelKey(DEMO, `evil/${evil.wheel.fileName}`), evil.wheel.bytes);
      await put(fx, `pointers/${DEMO}/${published}`, evil.pointer);
    },
  },
  {
    attack: 'a whole new release (wheel, attestation, pointer where publish puts them) that no bin lists',
    code: 'E_VERSION_UNKNOWN',
    version: '9.9.9',
    place: async (fx, evil) => {
      const p = parsePointer(new TextDecoder().decode(evil.pointer), 'evil');
      for (const [key, bytes] of [
        [wheelKey(DEMO, evil.wheel.fileName), evil.wheel.bytes],
        [attestationKey(DEMO, evil.attestation.fileName), evil.attestation.bytes],
        [consistentTargetPath(pointerTargetPath(DEMO, '9.9.9'), sha256Hex(evil.pointer)), evil.pointer],
      ] as const) {
        await fx.storage.putImmutable(key, bytes, objectPropsFor(key));
      }
      assert.equal(p.version, '9.9.9');
    },
  },
];

for (const c of placements) {
  test(`attestation key only: ${c.attack} is refused (${c.code})`, async (t) => {
    const fx = await repoFixture(t);
    const genuine = await signedRelease(fx, DEMO, '1.0.0');
    await publish(fx, [genuine]);
    await c.place(fx, await evilRelease(fx, c.version ?? '1.0.0'));
    const exitClass = c.code === 'E_VERSION_UNKNOWN' ? 'not-found' : 'verification';
    await expectRefused(fx, fx.repoDir, DEMO, c.code, exitClass, { version: c.version ?? '1.0.0' });
    if (c.code === 'E_VERSION_UNKNOWN') {
      // The newest a host is shown is still the genuine one.
      const r = await download(fx, fx.repoDir, DEMO);
      assert.equal(r.wheel.sha256, sha256Hex(genuine.wheel.bytes));
    }
  });
}
