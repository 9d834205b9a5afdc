import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { publishProposal } from '../../src/app/ceremony-publish.ts';
import { signProposal } from '../../src/app/ceremony-sign.ts';
import { keyStoreSignerSource } from '../../src/tuf/signer-source.ts';
import { ProvenantError } from '../../src/errors.ts';
import { repoFixture, type RepoFixture } from '../download/helpers/fixture.ts';
import { ok, refused, repoFlags } from './helpers.ts';

interface Doc {
  summary: string[];
  root: { signed: { expires: string }; signatures: { keyid: string; sig: string }[] };
}

const metadataFiles = (fx: RepoFixture) => readdir(path.join(fx.repoDir, 'metadata'));

/** A repository with a proposal for root threshold 2 (a second root key made in the store). */
async function thresholdProposal(t: Parameters<typeof repoFixture>[0]) {
  const fx = await repoFixture(t, { binCount: 2 });
  const flags = repoFlags(fx);
  await ok(fx, 'repo', 'root', 'propose', ...flags, '--add-key', 'new', '--threshold', '2');
  const file = path.join(fx.dir, 'proposals/root-v2.json');
  const key = (name: string) => path.join(fx.keysDir, `${name}.pem`);
  return { fx, flags, file, key };
}

test('publish refuses a proposal short of a threshold, naming the missing signers (key id and key store name); nothing is written', async (t) => {
  const { fx, flags, file, key } = await thresholdProposal(t);
  await ok(fx, 'repo', 'root', 'sign', file, '--key', key('root'), '--yes', ...flags);
  const before = await metadataFiles(fx);
  const err = await refused(fx, 'E_PROPOSAL_UNSIGNED', 'repo', 'root', 'publish', file, ...flags);
  const root2 = JSON.parse(await readFile(path.join(fx.keysDir, 'keys.json'), 'utf8')) as { keys: Record<string, { keyid: string }> };
  assert.match(err, /root role of the new root \(v2\): 1 of 2 signed \(missing 1 of: [0-9a-f]{12}… \(root-2\)\)/);
  assert.ok(err.includes(root2.keys['root-2']!.keyid.slice(0, 12)), err);
  assert.match(err, /repo root sign/);
  assert.deepEqual(await metadataFiles(fx), before);
  // The old root's threshold alone is named too when nobody signed.
  const { fx: fx2, flags: flags2, file: file2 } = await thresholdProposal(t);
  const err2 = await refused(fx2, 'E_PROPOSAL_UNSIGNED', 'repo', 'root', 'publish', file2, ...flags2);
  assert.match(err2, /root role of the current root \(v1\): 0 of 1 signed \(missing 1 of: [0-9a-f]{12}… \(root\)\)/);
});

test('a stale proposal (the repository\'s root moved on since it was proposed) is refused by sign and by publish', async (t) => {
  const { fx, flags, file, key } = await thresholdProposal(t);
  await ok(fx, 'repo', 'root', 'sign', file, '--key', key('root'), '--yes', ...flags);
  await ok(fx, 'repo', 'root', 'sign', file, '--key', key('root-2'), '--yes', ...flags);
  await ok(fx, 'repo', 'refresh', '--force', 'root', ...flags); // root v2, re-signed as it was
  const err = await refused(fx, 'E_PROPOSAL_STALE', 'repo', 'root', 'publish', file, ...flags);
  assert.match(err, /made from root version 1, but the repository's root is now version 2/);
  await refused(fx, 'E_PROPOSAL_STALE', 'repo', 'root', 'sign', file, '--key', key('root'), '--yes', ...flags);
  // A targets proposal goes stale when targets moves on.
  await ok(fx, 'repo', 'targets', 'propose', ...flags, '--expires', '200d');
  const tp = path.join(fx.dir, 'proposals/targets-v2.json');
  await ok(fx, 'repo', 'refresh', '--force', 'targets', ...flags);
  await refused(fx, 'E_PROPOSAL_STALE', 'repo', 'targets', 'sign', tp, '--key', key('targets'), '--yes', ...flags);
});

test('sign refuses a key that is in neither the current nor the new root\'s root role (the targets key, the online key, a stranger\'s); the proposal is unchanged', async (t) => {
  const { fx, flags, file, key } = await thresholdProposal(t);
  const before = await readFile(file);
  for (const k of ['targets', 'online', 'attestation']) {
    const err = await refused(fx, 'E_PROPOSAL_KEY_NOT_IN_ROLE', 'repo', 'root', 'sign', file, '--key', key(k), '--yes', ...flags);
    assert.match(err, /keys that may sign: [0-9a-f]{12}… \(root\)|keys that may sign: .*root-2/);
  }
  // The root key may not sign the targets part (there is none here: a usage error).
  await refused(fx, 'E_PROPOSAL_PART', 'repo', 'targets', 'sign', file, '--key', key('targets'), '--yes', ...flags);
  assert.deepEqual(await readFile(file), before);
});

test('a tampered proposal is refused: metadata changed after a signature, a summary that does not say what the metadata does, a target file the metadata does not pin', async (t) => {
  const { fx, flags, file, key } = await thresholdProposal(t);
  await ok(fx, 'repo', 'root', 'sign', file, '--key', key('root'), '--yes', ...flags);
  const signed = await readFile(file, 'utf8');

  // The expiry moved (and the summary edited to match): the signature no longer verifies.
  const doc = JSON.parse(signed) as Doc;
  const old = doc.root.signed.expires;
  doc.root.signed.expires = '2030-01-01T00:00:00Z';
  doc.summary = doc.summary.map((s) => s.replace(old, doc.root.signed.expires));
  await writeFile(file, JSON.stringify(doc));
  const err = await refused(fx, 'E_PROPOSAL_TAMPERED', 'repo', 'root', 'sign', file, '--key', key('root-2'), '--yes', ...flags);
  assert.match(err, /does not verify over the proposal's root metadata/);
  await refused(fx, 'E_PROPOSAL_TAMPERED', 'repo', 'root', 'publish', file, ...flags);

  // Only the summary edited: what a holder reads must be what the metadata does.
  const doc2 = JSON.parse(signed) as Doc;
  doc2.summary = doc2.summary.filter((s) => !s.includes('threshold'));
  await writeFile(file, JSON.stringify(doc2));
  const err2 = await refused(fx, 'E_PROPOSAL_TAMPERED', 'repo', 'root', 'sign', file, '--key', key('root-2'), '--yes', ...flags);
  assert.match(err2, /threshold 1 -> 2/);

  // A targets proposal carrying other policy bytes than its metadata pins.
  const policy = path.join(fx.dir, 'policy.json');
  await ok(fx, 'repo', 'policy', 'show', ...flags).then((p) => writeFile(policy, p.replace('"version": 1', '"version": 1 ')));
  await ok(fx, 'repo', 'policy', 'set', policy, ...flags);
  const tp = path.join(fx.dir, 'proposals/targets-v2.json');
  await ok(fx, 'repo', 'targets', 'sign', tp, '--key', key('targets'), '--yes', ...flags);
  const t3 = JSON.parse(await readFile(tp, 'utf8')) as { targetFiles: Record<string, string> };
  const [target] = Object.keys(t3.targetFiles);
  t3.targetFiles[target!] = Buffer.from('{"attestation":{}}').toString('base64');
  await writeFile(tp, JSON.stringify(t3));
  const before = await metadataFiles(fx);
  await refused(fx, 'E_PROPOSAL_TAMPERED', 'repo', 'targets', 'publish', tp, ...flags);
  assert.deepEqual(await metadataFiles(fx), before);
});

test('sign without a terminal and without --yes refuses before opening the key; a holder who does not confirm signs nothing', async (t) => {
  const { fx, flags, file, key } = await thresholdProposal(t);
  const before = await readFile(file);
  const err = await refused(fx, 'E_CONFIRMATION_REQUIRED', 'repo', 'root', 'sign', file, '--key', path.join(fx.dir, 'no-such-key.pem'), ...flags);
  assert.match(err, /--yes/);
  let shown: string[] = [];
  await assert.rejects(
    signProposal(fx.storage, file, { key: key('root'), part: 'root', env: {}, confirm: async (lines) => ((shown = lines), false) }),
    (e: unknown) => e instanceof ProvenantError && e.code === 'E_PROPOSAL_NOT_CONFIRMED',
  );
  assert.ok(shown.some((l) => l.includes('root role: threshold 1 -> 2')), shown.join('\n'));
  assert.deepEqual(await readFile(file), before);
});

test('propose refuses a threshold above the key count (or below 1), and removing every root key; nothing is written', async (t) => {
  const fx = await repoFixture(t, { binCount: 2 });
  const flags = repoFlags(fx);
  const err = await refused(fx, 'E_PROPOSAL_THRESHOLD', 'repo', 'root', 'propose', ...flags, '--threshold', '2');
  assert.match(err, /threshold 2 is above the 1 root key\(s\)/);
  await refused(fx, 'E_PROPOSAL_THRESHOLD', 'repo', 'root', 'propose', ...flags, '--add-key', 'new', '--threshold', '3');
  await refused(fx, 'E_PROPOSAL_THRESHOLD', 'repo', 'root', 'propose', ...flags, '--threshold', '0');
  await refused(fx, 'E_PROPOSAL_THRESHOLD', 'repo', 'root', 'propose', ...flags, '--remove-key', 'root');
  assert.equal(existsSync(path.join(fx.dir, 'proposals')), false);
});

test('a proposal edited to change what no summary line shows (consistent snapshots, the bin layout, an unused or misnamed key, new targets keys without targets) is refused before anyone signs it', async (t) => {
  const { fx, flags, file, key } = await thresholdProposal(t);
  const original = await readFile(file, 'utf8');
  type Edit = (d: { root: { signed: Record<string, unknown> & { keys: Record<string, unknown>; roles: Record<string, { keyids: string[] }> } } }) => void;
  const edits: [Edit, RegExp][] = [
    [(d) => void (d.root.signed.consistent_snapshot = false), /root\.consistent_snapshot changed/],
    [(d) => void (d.root.signed.keys['ab'.repeat(32)] = Object.values(d.root.signed.keys)[0]), /is used by no role/],
    [
      (d) => {
        const [id, k] = Object.entries(d.root.signed.keys)[0]!;
        delete d.root.signed.keys[id];
        d.root.signed.keys['cd'.repeat(32)] = k;
        for (const r of Object.values(d.root.signed.roles)) r.keyids = r.keyids.map((x) => (x === id ? 'cd'.repeat(32) : x));
      },
      /is not that key's id/,
    ],
    [(d) => void (d.root.signed.roles.targets!.keyids = [d.root.signed.roles.root!.keyids[0]!]), /changes the targets keys, but holds no targets/],
  ];
  for (const [edit, why] of edits) {
    const doc = JSON.parse(original) as Parameters<Edit>[0];
    edit(doc);
    await writeFile(file, JSON.stringify(doc));
    const err = await refused(fx, 'E_PROPOSAL_INVALID', 'repo', 'root', 'sign', file, '--key', key('root'), '--yes', ...flags);
    assert.match(err, why);
  }
  // The bin layout in a targets proposal.
  await ok(fx, 'repo', 'targets', 'propose', ...flags, '--expires', '100d');
  const tp = path.join(fx.dir, 'proposals/targets-v2.json');
  const doc = JSON.parse(await readFile(tp, 'utf8')) as { targets: { signed: { delegations: { succinct_roles: { bit_length: number } } } } };
  doc.targets.signed.delegations.succinct_roles.bit_length = 8;
  await writeFile(tp, JSON.stringify(doc));
  const err = await refused(fx, 'E_PROPOSAL_INVALID', 'repo', 'targets', 'publish', tp, ...flags);
  assert.match(err, /targets\.delegations\.succinct_roles\.bit_length changed/);
});

test('publish refuses a proposal whose metadata has expired meanwhile (hosts would refuse it); nothing is written', async (t) => {
  const { fx, flags, file, key } = await thresholdProposal(t);
  for (const k of ['root', 'root-2']) await ok(fx, 'repo', 'root', 'sign', file, '--key', key(k), '--yes', ...flags);
  const before = await metadataFiles(fx);
  const later = new Date(Date.now() + 400 * 86_400_000);
  await assert.rejects(publishProposal(fx.storage, keyStoreSignerSource(fx.keysDir, {}), file, undefined, { now: () => later }), (e: unknown) => e instanceof ProvenantError && e.code === 'E_PROPOSAL_EXPIRED');
  assert.deepEqual(await metadataFiles(fx), before);
});
