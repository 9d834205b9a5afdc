import assert from 'node:assert/strict';
import { copyFile, readFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { forgetRepositoryState } from '../../src/app/state.ts';
import { MANIFEST_KEY, parseManifest, renderManifest } from '../../src/mirror/manifest.ts';
import { writeDeterministicTar } from '../../src/mirror/tar-write.ts';
import { sha256Hex } from '../../src/util/hash.ts';
import { publishReleases } from '../../src/app/publish.ts';
import { repoFixture, type RepoFixture } from '../download/helpers/fixture.ts';
import { makeSignedRelease } from '../s3/fixtures.ts';
import { download, expectRefused } from '../download/helpers/run.ts';
import { exportBundle, filesUnder, mirrorFixture, unpack } from '../mirror/helpers.ts';

/*
 * Attacks of issue 13, capacity A, at the trust level: the bundle is a well-formed tar whose
 * manifest matches every entry (the sender rewrote it), but whose TUF content is not what the
 * host's root allows.
 */

/** `tar` unpacked, `edit` applied to its files, the manifest rewritten to match, packed again as `out`. */
async function rewritten(fx: RepoFixture, tar: string, out: string, edit: (files: Map<string, Uint8Array>) => void | Promise<void>): Promise<string> {
  const dir = await unpack(tar, path.join(fx.dir, `unpacked-${out}`));
  const files = new Map<string, Uint8Array>();
  for (const f of await filesUnder(dir)) files.set(f, await readFile(path.join(dir, f)));
  await edit(files);
  const manifest = parseManifest(files.get(MANIFEST_KEY)!, out);
  manifest.files = {};
  for (const [k, v] of files) if (k !== MANIFEST_KEY) manifest.files[k] = { length: v.byteLength, sha256: sha256Hex(v) };
  files.set(MANIFEST_KEY, renderManifest(manifest));
  const file = path.join(fx.dir, out);
  await writeDeterministicTar(file, files);
  return file;
}

const json = (b: Uint8Array) => JSON.parse(new TextDecoder().decode(b)) as { signed: { version: number; expires: string }; signatures: { keyid: string; sig: string }[] };
const bytes = (o: unknown) => new TextEncoder().encode(JSON.stringify(o));

test('attack A: a bundle whose next root is signed by no one, or by keys the trusted root does not name, is refused; nothing installed', async (t) => {
  const { fx } = await mirrorFixture(t);
  const tar = await exportBundle(fx, 'bundle.tar');
  const cases: [name: string, edit: (root: ReturnType<typeof json>) => void][] = [
    ['no signature', (r) => void (r.signatures = [])],
    ['its own signatures, other key ids', (r) => void (r.signatures = r.signatures.map((s) => ({ ...s, keyid: 'a'.repeat(64) })))],
    ['a signature over other bytes', (r) => void (r.signed.expires = '2099-01-01T00:00:00Z')],
  ];
  for (const [name, edit] of cases) {
    const forged = await rewritten(fx, tar, `${name.replace(/\W+/g, '-')}.tar`, (files) => {
      const one = json(files.get('metadata/1.root.json')!);
      one.signed.version = 2;
      edit(one);
      files.set('metadata/2.root.json', bytes(one));
    });
    const e = await expectRefused(fx, forged, 'datadog-demo', 'E_TUF_METADATA', 'verification', { stateDir: path.join(fx.dir, `state-${path.basename(forged)}`) });
    assert.match(e.message, /root/i, `${name}: ${e.describe()}`);
  }
});

test('attack A: a genuine bundle of another repository is refused from this repository\'s root', async (t) => {
  const { fx } = await mirrorFixture(t);
  const other = await mirrorFixture(t);
  const theirs = await exportBundle(other.fx, 'theirs.tar');
  const e = await expectRefused(fx, theirs, 'datadog-demo', 'E_TUF_METADATA', 'verification', { stateDir: path.join(fx.dir, 'state-theirs') });
  assert.match(e.message, /root|signature|threshold/i, e.describe());
});

test('attack A: an older, validly signed bundle after a newer one (rollback) is refused, at the same path or under another name', async (t) => {
  const fx = await repoFixture(t);
  await publishReleases(fx.storage, fx.signers, [await makeSignedRelease('datadog-demo', '1.0.0', fx.attestation)], undefined, {});
  const old = await exportBundle(fx, 'old.tar', ['datadog-demo']);
  await publishReleases(fx.storage, fx.signers, [await makeSignedRelease('datadog-demo', '2.0.0', fx.attestation)], undefined, {});
  const fresh = await exportBundle(fx, 'new.tar', ['datadog-demo']);
  const usb = path.join(fx.dir, 'usb-bundle.tar');
  await copyFile(fresh, usb);
  assert.equal((await download(fx, usb, 'datadog-demo')).version, '2.0.0');
  await copyFile(old, usb);
  await expectRefused(fx, usb, 'datadog-demo', 'E_TUF_ROLLBACK', 'verification');
  // The same old bundle under another name.
  const renamed = path.join(fx.dir, 'bundle-2026-12-04.tar');
  await copyFile(old, renamed);
  await expectRefused(fx, renamed, 'datadog-demo', 'E_TUF_ROLLBACK', 'verification');
  // A bundle's state is the root's: without a root there is none to check against.
  await expectRefused(fx, renamed, 'datadog-demo', 'E_TUF_ROOT_MISSING', 'usage', { root: undefined });
  // Forgetting it (deliberately) names the same state, through the root.
  const forgot = await forgetRepositoryState({ repository: renamed, root: fx.rootFile, stateDir: path.join(fx.dir, 'state'), env: {} });
  assert.equal(forgot.removed, true);
  assert.equal((await download(fx, renamed, 'datadog-demo')).version, '1.0.0');
});
