import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { signProposal } from '../../src/app/ceremony-sign.ts';
import { parseProposal, signedBytes } from '../../src/ceremony/proposal.ts';
import { keyIdOf } from '../../src/signers/key-file.ts';
import { loadSigner } from '../../src/signers/key-store.ts';
import type { PublicKeyInfo } from '../../src/signers/signer.ts';
import { repoFixture, type RepoFixture } from '../download/helpers/fixture.ts';
import { ok, refused, repoFlags } from '../ceremony/helpers.ts';

interface Part { signed: { keys: Record<string, { keytype: string; scheme: string; keyval: { public: string } }>; roles: Record<string, { keyids: string[]; threshold: number }> }; signatures: { keyid: string; sig: string }[] }
interface Doc { root: Part; summary: string[]; keyNames: Record<string, string> }

/**
 * The same public key written two ways tuf-js and python-tuf both read as that key (PEM with an
 * extra line break; for ed25519, PEM instead of hex) has two key ids: one holder's signature,
 * copied under the second id, would count twice toward a threshold.
 */
function sameKeyOtherId(key: PublicKeyInfo): PublicKeyInfo {
  const pub = key.keyval.public;
  return { ...key, keyval: { public: pub.startsWith('-----') ? `${pub}\n` : pub.toUpperCase() } };
}

/**
 * Root 1-of-1 → a proposal for 2-of-2 "adding root-2". An attacker edits it in transit (or the one
 * root holder does) so the key "added" is the root key itself under a second id, with a summary
 * and key name that match. Before the fix, one signature copied under both ids met the new
 * threshold of 2 and publish wrote a root whose 2-of-2 is one key.
 */
async function duplicatedKeyProposal(t: Parameters<typeof repoFixture>[0]): Promise<{ fx: RepoFixture; file: string; flags: string[]; rootKey: string; twin: string }> {
  const fx = await repoFixture(t, { binCount: 2 });
  const flags = repoFlags(fx);
  await ok(fx, 'repo', 'root', 'propose', ...flags, '--add-key', 'new', '--threshold', '2');
  const file = path.join(fx.dir, 'proposals/root-v2.json');
  const doc = JSON.parse(await readFile(file, 'utf8')) as Doc;
  const roleIds = doc.root.signed.roles.root!.keyids;
  const [rootKey, added] = roleIds as [string, string];
  const k = doc.root.signed.keys[rootKey]!;
  const twinKey = sameKeyOtherId({ keytype: k.keytype, scheme: k.scheme, keyval: { public: k.keyval.public } } as PublicKeyInfo);
  const twin = keyIdOf(twinKey);
  assert.notEqual(twin, rootKey);
  delete doc.root.signed.keys[added];
  doc.root.signed.keys[twin] = twinKey as Doc['root']['signed']['keys'][string];
  doc.root.signed.roles.root!.keyids = [rootKey, twin];
  doc.summary = doc.summary.map((s) => s.replace(added.slice(0, 12), twin.slice(0, 12)));
  doc.keyNames = { ...doc.keyNames, [twin]: doc.keyNames[added] ?? 'root-2' };
  delete doc.keyNames[added];
  await writeFile(file, JSON.stringify(doc, null, 2));
  return { fx, file, flags, rootKey, twin };
}

test('attack: a proposal adding an existing root key again under a second key id is refused by sign (a holder never signs it)', async (t) => {
  const { fx, file, flags } = await duplicatedKeyProposal(t);
  const err = await refused(fx, 'E_PROPOSAL_INVALID', 'repo', 'root', 'sign', file, '--key', path.join(fx.keysDir, 'root.pem'), '--yes', ...flags);
  assert.match(err, /same public key as/);
});

test('attack: one root signature copied under the key\'s second id does not meet a threshold of 2; publish writes nothing', async (t) => {
  const { fx, file, flags, rootKey, twin } = await duplicatedKeyProposal(t);
  // sign refuses it, so the signature is made over the proposal's bytes directly with the root key.
  await assert.rejects(signProposal(fx.storage, file, { key: path.join(fx.keysDir, 'root.pem'), part: 'root', env: {}, cwd: fx.dir, confirm: async () => true }), /E_PROPOSAL_INVALID|same public key/);
  const p = parseProposal(await readFile(file), file);
  const signer = await loadSigner(fx.keysDir, 'root', {});
  const sig = Buffer.from(await signer.sign(signedBytes(p.root!))).toString('hex');
  const doc = JSON.parse(await readFile(file, 'utf8')) as Doc;
  doc.root.signatures = [{ keyid: rootKey, sig }, { keyid: twin, sig }];
  await writeFile(file, JSON.stringify(doc, null, 2));
  const before = await readFile(path.join(fx.repoDir, 'metadata/timestamp.json'));
  await refused(fx, 'E_PROPOSAL_INVALID', 'repo', 'root', 'publish', file, ...flags);
  assert.deepEqual(await readFile(path.join(fx.repoDir, 'metadata/timestamp.json')), before);
});
