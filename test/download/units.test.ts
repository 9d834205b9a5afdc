import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Metadata, MetadataKind, Snapshot, Targets } from '@tufjs/models';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { ProvenantError } from '../../src/errors.ts';
import { renderPointer } from '../../src/formats/pointer.ts';
import { checkPointer, resolveInside } from '../../src/verify/pointer-check.ts';
import { repositoryBaseUrl } from '../../src/verify/repository-url.ts';
import { repositoryStateName, stateBaseDir } from '../../src/verify/state-dir.ts';
import '../../src/verify/tuf-models-linear.ts';
import '../../src/verify/tuf-models-verify-cache.ts';
import { pickRelease } from '../../src/verify/versions.ts';
import { publish, repoFixture, signedRelease } from './helpers/fixture.ts';
import { expectRefused } from './helpers/run.ts';

const REPO = 'https://packages.example.com/integrations/';

test('pointer URIs: relative keys and absolute URLs under the root resolve; everything else is E_POINTER_URI', () => {
  assert.equal(resolveInside('simple/p/p-1.whl', REPO, 'f', 'uri'), `${REPO}simple/p/p-1.whl`);
  assert.equal(resolveInside(`${REPO}simple/p/p-1.whl`, REPO, 'f', 'uri'), `${REPO}simple/p/p-1.whl`);
  assert.equal(resolveInside('/simple/p/p-1.whl', REPO, 'f', 'uri'), `${REPO}simple/p/p-1.whl`);
  for (const bad of [
    '../simple/p.whl',
    'simple/../../x.whl',
    'simple/%2e%2e/x.whl',
    'simple%2fx.whl',
    'simple\\..\\x.whl',
    'https://evil.example/integrations/simple/p.whl',
    'https://packages.example.com/other/p.whl',
    'http://packages.example.com/integrations/simple/p.whl',
    'file:///etc/passwd',
    'simple/p.whl?x=1',
    '//evil.example/p.whl',
  ]) {
    assert.throws(() => resolveInside(bad, REPO, 'f', 'uri'), (e) => e instanceof ProvenantError && e.code === 'E_POINTER_URI' && e.exitClass === 'verification', bad);
  }
});

test('a TUF-signed pointer whose URI escapes the repository is refused before anything is fetched', async (t) => {
  const fx = await repoFixture(t);
  const r = await signedRelease(fx, 'datadog-demo', '1.0.0');
  const text = new TextDecoder().decode(r.pointer).replace(/uri: simple\/\S+/, 'uri: ../../../etc/datadog_demo-1.0.0-py3-none-any.whl');
  assert.match(text, /\.\.\/\.\.\//);
  await publish(fx, [{ ...r, pointer: new TextEncoder().encode(text) }]);
  await expectRefused(fx, fx.repoDir, 'datadog-demo', 'E_POINTER_URI', 'verification');
});

test('pointer schema: malformed YAML, bad digest, negative length are E_POINTER_SCHEMA; another release is E_POINTER_MISMATCH', () => {
  const target = { path: 'pointers/p/p-1.0.pointer' } as never;
  const good = { name: 'p', version: '1.0', uri: 'simple/p/p-1.0-py3-none-any.whl', digest: 'a'.repeat(64), length: 10, attestation: { uri: 'attestations/p/a.json', digest: 'b'.repeat(64), length: 5 } };
  const enc = (o: unknown) => new TextEncoder().encode(typeof o === 'string' ? o : renderPointer(o as never));
  assert.equal(checkPointer(enc(good), target, { project: 'p', version: '1.0' }, REPO).wheelFileName, 'p-1.0-py3-none-any.whl');
  const code = (bytes: Uint8Array, expected = { project: 'p', version: '1.0' }) => {
    try {
      checkPointer(bytes, target, expected, REPO);
    } catch (e) {
      return (e as ProvenantError).code;
    }
    return 'none';
  };
  assert.equal(code(enc('pointer: [')), 'E_POINTER_SCHEMA');
  assert.equal(code(enc({ ...good, digest: 'XYZ' })), 'E_POINTER_SCHEMA');
  assert.equal(code(enc({ ...good, length: -1 })), 'E_POINTER_SCHEMA');
  assert.equal(code(enc({ ...good, length: 1.5 })), 'E_POINTER_SCHEMA');
  assert.equal(code(enc({ ...good, attestation: { ...good.attestation, digest: 'c' } })), 'E_POINTER_SCHEMA');
  assert.equal(code(enc(good), { project: 'q', version: '1.0' }), 'E_POINTER_MISMATCH');
  assert.equal(code(enc(good), { project: 'p', version: '2.0' }), 'E_POINTER_MISMATCH');
  assert.equal(code(enc({ ...good, uri: 'simple/p/README' })), 'E_POINTER_URI');
});

test('repository URLs: paths become file URLs, all end in /; bad schemes are usage errors', () => {
  assert.equal(repositoryBaseUrl('https://x.example/repo', '/'), 'https://x.example/repo/');
  assert.equal(repositoryBaseUrl('http://127.0.0.1:8000', '/'), 'http://127.0.0.1:8000/');
  assert.equal(repositoryBaseUrl('repository', '/srv'), 'file:///srv/repository/');
  assert.throws(() => repositoryBaseUrl('ftp://x/', '/'), (e) => e instanceof ProvenantError && e.exitClass === 'usage');
  assert.throws(() => repositoryBaseUrl('https://x/?a=1', '/'), (e) => e instanceof ProvenantError && e.exitClass === 'usage');
});

test('state directories: XDG and explicit bases, one distinct readable name per repository URL', () => {
  assert.equal(stateBaseDir({ XDG_STATE_HOME: '/xdg' }), '/xdg/provenant');
  assert.equal(stateBaseDir({ HOME: '/home/u' }), '/home/u/.local/state/provenant');
  assert.equal(stateBaseDir({ PROVENANT_STATE_DIR: '/s', XDG_STATE_HOME: '/xdg' }), '/s');
  assert.equal(stateBaseDir({ PROVENANT_STATE_DIR: '/s' }, '/explicit'), '/explicit');
  const a = repositoryStateName('https://packages.example.com/integrations/');
  const b = repositoryStateName('https://packages.example.com/integrations2/');
  assert.match(a, /^packages\.example\.com_integrations-[0-9a-f]{16}$/);
  assert.notEqual(a, b);
  assert.ok(repositoryStateName(`https://x/${'a'.repeat(500)}/`).length < 120);
});

test('version picking follows PEP 440 order', () => {
  const rel = (v: string) => ({ version: v, target: {} as never });
  const all = ['1.0.0', '1.10.0', '1.9.0', '2.0.0rc1', '1.10.0.post1'].map(rel);
  assert.equal(pickRelease(all, 'p', {}).version, '1.10.0.post1');
  assert.equal(pickRelease(all, 'p', { pre: true }).version, '2.0.0rc1');
  assert.equal(pickRelease(all, 'p', { version: '1.9' }).version, '1.9.0');
});

test('linear @tufjs/models (de)serialisation round-trips snapshot and targets metadata exactly', async (t) => {
  const fx = await repoFixture(t, { binCount: 256 });
  await publish(fx, [await signedRelease(fx, 'datadog-demo', '1.0.0'), await signedRelease(fx, 'datadog-demo', '1.1.0')]);
  const snapJson = JSON.parse(await readFile(path.join(fx.repoDir, 'metadata/2.snapshot.json'), 'utf8')) as { signed: Record<string, unknown> };
  assert.deepEqual(Snapshot.fromJSON(snapJson.signed as never).toJSON(), snapJson.signed);
  assert.equal(Object.keys((snapJson.signed as { meta: object }).meta).length, 257);
  const binFile = (await readdir(path.join(fx.repoDir, 'metadata'))).find((f) => /^2\.bins-/.test(f))!;
  const binJson = JSON.parse(await readFile(path.join(fx.repoDir, 'metadata', binFile), 'utf8')) as { signed: Record<string, unknown> };
  assert.deepEqual(Targets.fromJSON(binJson.signed as never).toJSON(), binJson.signed);
  const topJson = JSON.parse(await readFile(path.join(fx.repoDir, 'metadata/1.targets.json'), 'utf8')) as { signed: Record<string, unknown> };
  assert.deepEqual(Targets.fromJSON(topJson.signed as never).toJSON(), topJson.signed);
  // Signatures over the re-serialised form still verify.
  const root = Metadata.fromJSON(MetadataKind.Root, JSON.parse(await readFile(fx.rootFile, 'utf8')));
  root.verifyDelegate('snapshot', Metadata.fromJSON(MetadataKind.Snapshot, snapJson as never));
  assert.throws(() => Snapshot.fromJSON({ ...snapJson.signed, meta: [] } as never), TypeError);
  assert.throws(() => Targets.fromJSON({ ...binJson.signed, targets: 'x' } as never), TypeError);
  // An unsigned `__proto__` entry slipped into signed metadata must break the signature, not vanish from the signed bytes.
  const rootRole = Metadata.fromJSON(MetadataKind.Root, JSON.parse(await readFile(fx.rootFile, 'utf8')));
  const topText = await readFile(path.join(fx.repoDir, 'metadata/1.targets.json'), 'utf8');
  const injected = topText.replace('"targets":{', '"targets":{"__proto__":{"length":999,"hashes":{"sha256":"00"}},');
  assert.notEqual(injected, topText);
  const md = Metadata.fromJSON(MetadataKind.Targets, JSON.parse(injected) as never);
  assert.ok(Object.hasOwn(md.signed.targets, '__proto__'), 'kept as an own entry');
  assert.throws(() => rootRole.verifyDelegate('targets', md), /signed by 0\/1 keys/);
});

test('remembered TUF signature checks: a repeat of a good check passes, any change to the signed bytes or signature is checked again and fails', async (t) => {
  const fx = await repoFixture(t, { binCount: 16 });
  await publish(fx, [await signedRelease(fx, 'datadog-demo', '1.0.0')]);
  const root = Metadata.fromJSON(MetadataKind.Root, JSON.parse(await readFile(fx.rootFile, 'utf8')));
  const snapText = await readFile(path.join(fx.repoDir, 'metadata/2.snapshot.json'), 'utf8');
  const good = () => Metadata.fromJSON(MetadataKind.Snapshot, JSON.parse(snapText));
  root.verifyDelegate('snapshot', good());
  root.verifyDelegate('snapshot', good()); // answered from the memo
  const bumped = good();
  (bumped.signed as { version: number }).version += 1;
  assert.throws(() => root.verifyDelegate('snapshot', bumped), /signed by 0\/1 keys/);
  const mutated = good();
  root.verifyDelegate('snapshot', mutated);
  (mutated.signed as { expires: string }).expires = '2099-01-01T00:00:00Z';
  assert.throws(() => root.verifyDelegate('snapshot', mutated), /signed by 0\/1 keys/, 'the same object changed after a good check');
  const forged = good();
  for (const s of Object.values(forged.signatures)) (s as { sig: string }).sig = s.sig.replace(/^./, (c) => (c === '0' ? '1' : '0'));
  assert.throws(() => root.verifyDelegate('snapshot', forged), /signed by 0\/1 keys/);
  root.verifyDelegate('snapshot', good()); // and the good one still passes
});
