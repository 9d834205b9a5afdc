import assert from 'node:assert/strict';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { repoFixture } from '../download/helpers/fixture.ts';
import { cli, ok, refused, repoFlags, withRecomputedSummary } from '../ceremony/helpers.ts';

type Json = Record<string, unknown>;
interface Doc { root?: { signed: Json & { roles: Record<string, Json> } }; targets?: { signed: Json & { delegations: Json } }; summary: string[]; keyNames: Record<string, string> }

/** Edits of a proposal in a pull request (no keys) that change what no summary line shows: each is refused before a holder signs. */
const edits: { edit: string; part: 'root' | 'targets'; apply: (d: Doc) => void; why: RegExp }[] = [
  { edit: 'spec_version changed', part: 'root', apply: (d) => void (d.root!.signed.spec_version = '1.0.0'), why: /root\.spec_version changed/ },
  { edit: 'an extra field in root', part: 'root', apply: (d) => void (d.root!.signed.x_mirrors = { url: 'https://evil.example' }), why: /root\.x_mirrors changed/ },
  { edit: 'a fifth top-level role', part: 'root', apply: (d) => void (d.root!.signed.roles.mirror = { keyids: (d.root!.signed.roles.root as { keyids: string[] }).keyids, threshold: 1 }), why: /other roles than root, targets, snapshot, timestamp/ },
  { edit: 'an extra field in targets', part: 'targets', apply: (d) => void (d.targets!.signed.x_note = 'y'), why: /targets\.x_note changed/ },
  { edit: 'a delegated role beside the bins', part: 'targets', apply: (d) => void (d.targets!.signed.delegations.roles = [{ name: 'evil', keyids: [], threshold: 1, terminating: true, paths: ['*'] }]), why: /delegations/ },
];

test('attack: proposal edits in transit that no summary line shows (spec_version, extra fields, another role, a delegated role) are refused before signing', async (t) => {
  const fx = await repoFixture(t, { binCount: 2 });
  const flags = repoFlags(fx);
  await ok(fx, 'repo', 'root', 'propose', ...flags, '--add-key', 'new');
  await ok(fx, 'repo', 'targets', 'propose', ...flags, '--expires', '200d');
  const files = { root: path.join(fx.dir, 'proposals/root-v2.json'), targets: path.join(fx.dir, 'proposals/targets-v2.json') };
  const originals = { root: await readFile(files.root, 'utf8'), targets: await readFile(files.targets, 'utf8') };
  for (const e of edits) {
    const doc = JSON.parse(originals[e.part]) as Doc;
    e.apply(doc);
    await writeFile(files[e.part], await withRecomputedSummary(fx, doc, files[e.part]).catch(() => JSON.stringify(doc)));
    const err = await refused(fx, /E_PROPOSAL_(INVALID|TAMPERED)/.source, 'repo', e.part, 'sign', files[e.part], '--key', path.join(fx.keysDir, `${e.part}.pem`), '--yes', ...flags).catch((x: Error) => assert.fail(`${e.edit}: ${x.message}`));
    assert.match(err, e.why, e.edit);
  }
});

test('attack: a duplicate JSON key in the proposal (threshold 2, then 1) — the holder is shown, signs and publishes the one value every JSON parser keeps (the last)', async (t) => {
  const fx = await repoFixture(t, { binCount: 2 });
  const flags = repoFlags(fx);
  await ok(fx, 'repo', 'root', 'propose', ...flags, '--add-key', 'new', '--threshold', '2');
  const file = path.join(fx.dir, 'proposals/root-v2.json');
  const text = await readFile(file, 'utf8');
  // A reviewer reading the diff sees "threshold": 2; the file's last "threshold" says 1.
  const dup = text.replace(/("root": \{\s*"keyids": \[[^\]]*\],\s*"threshold": )2/, '$12, "threshold": 1');
  assert.notEqual(dup, text);
  const doc = JSON.parse(dup) as Doc;
  await writeFile(file, (await withRecomputedSummary(fx, doc, file)).replace(/("root": \{\s*"keyids": \[[^\]]*\],\s*"threshold": )1/, '$12, "threshold": 1'));
  const r = await cli(fx, 'repo', 'root', 'sign', file, '--key', path.join(fx.keysDir, 'root.pem'), '--yes', ...flags);
  assert.equal(r.code, 0, r.err);
  assert.doesNotMatch(r.err, /threshold 1 -> 2/);
  assert.match(r.err, /root role of the new root \(v2\): 0 of 1 signed/);
  await ok(fx, 'repo', 'root', 'publish', file, ...flags);
  const v2 = JSON.parse(await readFile(path.join(fx.repoDir, 'metadata/2.root.json'), 'utf8')) as { signed: { roles: { root: { threshold: number } } } };
  assert.equal(v2.signed.roles.root.threshold, 1, 'what was shown is what was published');
});

test('attack: a proposal replayed after it was published, and after a later root: sign refuses it as stale, publish writes nothing and the key store keeps the newest root', async (t) => {
  const fx = await repoFixture(t, { binCount: 2 });
  const flags = repoFlags(fx);
  const key = path.join(fx.keysDir, 'root.pem');
  const publish = async (args: string[], n: number) => {
    await ok(fx, 'repo', 'root', 'propose', ...flags, ...args);
    const f = path.join(fx.dir, `proposals/root-v${n}.json`);
    await ok(fx, 'repo', 'root', 'sign', f, '--key', key, '--yes', ...flags);
    await ok(fx, 'repo', 'root', 'publish', f, ...flags);
    return f;
  };
  const first = await publish(['--add-key', 'new'], 2);
  await publish(['--remove-key', 'root-2'], 3);
  const metadata = async () => readdir(path.join(fx.repoDir, 'metadata'));
  const before = { files: await metadata(), timestamp: await readFile(path.join(fx.repoDir, 'metadata/timestamp.json')), trusted: await readFile(path.join(fx.keysDir, 'root.json')) };
  await refused(fx, 'E_PROPOSAL_STALE', 'repo', 'root', 'sign', first, '--key', key, '--yes', ...flags);
  await ok(fx, 'repo', 'root', 'publish', first, ...flags);
  assert.deepEqual(await metadata(), before.files);
  assert.deepEqual(await readFile(path.join(fx.repoDir, 'metadata/timestamp.json')), before.timestamp);
  assert.deepEqual(await readFile(path.join(fx.keysDir, 'root.json')), before.trusted);
  assert.equal((JSON.parse(before.trusted.toString()) as { signed: { version: number } }).signed.version, 3);
});
