import assert from 'node:assert/strict';
import { mkdir, readFile, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { syncMirror } from '../../src/app/mirror-sync.ts';
import { refreshRepository } from '../../src/app/repo.ts';
import { ProvenantError } from '../../src/errors.ts';
import { sha256Hex } from '../../src/util/hash.ts';
import { publish, repoFixture, signedRelease } from '../download/helpers/fixture.ts';
import { download } from '../download/helpers/run.ts';
import { filesUnder, mirrorFixture } from '../mirror/helpers.ts';

/*
 * Attacks of issue 13, capacity B: a writer of SRC's storage, with no key, against `mirror sync`.
 * DST may only ever hold what a host would accept from SRC, whole, with its timestamp moved last.
 */

test('attack B: files planted in SRC outside what TUF pins are never copied; links and names reaching out of SRC are not followed into DST', async (t) => {
  const { fx } = await mirrorFixture(t);
  const planted: Record<string, string> = {
    'simple/datadog-evil/index.html': '<a href="https://evil.example/x.whl">x</a>',
    'simple/datadog-demo/datadog_demo-9.9.9-py3-none-any.whl': 'not pinned',
    'metadata/timestamp.json.bak': '{}',
    'pointers/datadog-demo/datadog-demo-9.9.9.pointer': 'name: datadog-demo\n',
    '..evil': 'x',
  };
  for (const [key, body] of Object.entries(planted)) {
    await mkdir(path.dirname(path.join(fx.repoDir, key)), { recursive: true });
    await writeFile(path.join(fx.repoDir, key), body);
  }
  await symlink('/etc/passwd', path.join(fx.repoDir, 'simple', 'passwd'));
  const dst = path.join(fx.dir, 'dst');
  await syncMirror({ src: fx.repoDir, dst, root: fx.rootFile, env: {} });
  const copied = await filesUnder(dst);
  for (const key of [...Object.keys(planted), 'simple/passwd']) assert.ok(!copied.includes(key), `${key} was copied`);
  assert.deepEqual((await filesUnder(fx.dir)).filter((f) => f.endsWith('evil')), [path.relative(fx.dir, path.join(fx.repoDir, '..evil'))], 'nothing written beside DST');
  // DST's index lists only verified wheels.
  const page = await readFile(path.join(dst, 'simple/datadog-demo/index.html'), 'utf8');
  assert.ok(!page.includes('9.9.9'), page);
  assert.equal((await download(fx, dst, 'datadog-demo', { stateDir: path.join(fx.dir, 'state-dst') })).version, '1.2.0');
});

test('attack B: a datadog-v2 SRC is synced whole (wheels and attestations too), or not at all; a host downloads every release from DST', async (t) => {
  const fx = await repoFixture(t, { layout: 'datadog-v2' });
  await publish(fx, [await signedRelease(fx, 'datadog-demo', '1.0.0'), await signedRelease(fx, 'datadog-demo', '2.0.0')]);
  const dst = path.join(fx.dir, 'dst');
  const r = await syncMirror({ src: fx.repoDir, dst, root: fx.rootFile, env: {} }).catch((e: unknown) => e);
  if (r instanceof ProvenantError) {
    // Refusing a layout it cannot copy whole is acceptable; leaving DST committed and incomplete is not.
    assert.deepEqual(await filesUnder(dst), [], r.describe());
    return;
  }
  assert.ok(!(r instanceof Error), String(r));
  for (const version of ['1.0.0', '2.0.0']) {
    const got = await download(fx, dst, 'datadog-demo', { version, stateDir: path.join(fx.dir, 'state-dst') });
    assert.equal(got.wheel.sha256, sha256Hex(await readFile(path.join(fx.repoDir, 'wheels/datadog-demo', got.wheel.fileName))));
  }
  // That layout has no simple index: DST gets none either (SRC has none to mirror).
  assert.deepEqual((await filesUnder(dst)).filter((f) => f.startsWith('simple/')), []);
});

test('attack B: an older root in SRC that its own keys never signed (the keys of the next root listed, signatures stripped or another key added) is refused; DST untouched', async (t) => {
  const { fx } = await mirrorFixture(t);
  await refreshRepository(fx.storage, fx.signers, undefined, { force: ['root'] });
  const genuine = await readFile(path.join(fx.repoDir, 'metadata/1.root.json'));
  const doc = () => JSON.parse(genuine.toString('utf8')) as { signed: { expires: string }; signatures: unknown[] };
  const stripped = doc();
  stripped.signatures = [];
  const extended = doc();
  extended.signed.expires = '2099-01-01T00:00:00Z';
  for (const [name, forged] of [['no signature', stripped], ['altered, old signatures', extended]] as const) {
    await writeFile(path.join(fx.repoDir, 'metadata/1.root.json'), JSON.stringify(forged));
    const dst = path.join(fx.dir, `dst-${name.replace(/\W+/g, '-')}`);
    await assert.rejects(syncMirror({ src: fx.repoDir, dst, root: path.join(fx.repoDir, 'metadata/2.root.json'), env: {} }), (e: unknown) => {
      assert.ok(e instanceof ProvenantError, String(e));
      assert.equal(e.code, 'E_MIRROR_ROOT_CHAIN', `${name}: ${e.describe()}`);
      assert.equal(e.file, 'metadata/1.root.json');
      return true;
    });
    assert.deepEqual(await filesUnder(dst), [], name);
  }
  await writeFile(path.join(fx.repoDir, 'metadata/1.root.json'), genuine);
  await syncMirror({ src: fx.repoDir, dst: path.join(fx.dir, 'dst-genuine'), root: path.join(fx.repoDir, 'metadata/2.root.json'), env: {} });
});
