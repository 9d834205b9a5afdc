import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { publishProposal } from '../../src/app/ceremony-publish.ts';
import { parseProposal } from '../../src/ceremony/proposal.ts';
import { loadSigner, readKeyIndex } from '../../src/signers/key-store.ts';
import { metadataKey, serializeMetadata, signMetadata } from '../../src/tuf/sign.ts';
import { keyStoreSignerSource } from '../../src/tuf/signer-source.ts';
import { repoFixture, type RepoFixture } from '../download/helpers/fixture.ts';
import { startStaticServer } from '../helpers/static-server.ts';
import { hosts, ok, refused, release, repoFlags } from '../ceremony/helpers.ts';

interface Sig { keyid: string; sig: string }
interface Doc { root: { signatures: Sig[] } }

/**
 * Root v3: root-2, root-3, root-4, threshold 2 ('root', the first key, was removed at v3). The
 * adversary holds root-3, and the removed 'root' key (old keys are often kept less carefully).
 */
async function twoOfThree(t: Parameters<typeof repoFixture>[0]): Promise<{ fx: RepoFixture; flags: string[]; key: (n: string) => string; ids: Record<string, string> }> {
  const fx = await repoFixture(t, { binCount: 2 });
  const flags = repoFlags(fx);
  const key = (n: string) => path.join(fx.keysDir, `${n}.pem`);
  const ceremony = async (file: string, signers: string[], ...args: string[]) => {
    await ok(fx, 'repo', 'root', 'propose', ...flags, ...args);
    for (const s of signers) await ok(fx, 'repo', 'root', 'sign', file, '--key', key(s), '--yes', ...flags);
    await ok(fx, 'repo', 'root', 'publish', file, ...flags);
  };
  await ceremony(path.join(fx.dir, 'proposals/root-v2.json'), ['root', 'root-2'], '--add-key', 'new', '--add-key', 'new', '--threshold', '2');
  await ceremony(path.join(fx.dir, 'proposals/root-v3.json'), ['root-2', 'root-3'], '--remove-key', 'root', '--add-key', 'new');
  const index = await readKeyIndex(fx.keysDir);
  const ids = Object.fromEntries(Object.entries(index.keys).map(([n, e]) => [n, e.keyid]));
  const v3 = JSON.parse(await readFile(path.join(fx.repoDir, 'metadata/3.root.json'), 'utf8')) as { signed: { roles: { root: { keyids: string[]; threshold: number } } } };
  assert.deepEqual([...v3.signed.roles.root.keyids].sort(), [ids['root-2'], ids['root-3'], ids['root-4']].sort());
  assert.equal(v3.signed.roles.root.threshold, 2);
  return { fx, flags, key, ids };
}

async function publishedSignature(fx: RepoFixture, version: number, keyid: string): Promise<Sig> {
  const md = JSON.parse(await readFile(path.join(fx.repoDir, `metadata/${version}.root.json`), 'utf8')) as { signatures: Sig[] };
  return md.signatures.find((s) => s.keyid === keyid)!;
}

type Edit = (doc: Doc, ctx: { ids: Record<string, string>; fx: RepoFixture }) => Promise<void> | void;

const attacks: { attack: string; propose: string[]; signWith: string[]; edit?: Edit; code: string }[] = [
  { attack: 'publish with its own signature alone (new root: root-3 only, 1 of 1)', propose: ['--remove-key', 'root-2', '--remove-key', 'root-4', '--threshold', '1'], signWith: ['root-3'], code: 'E_PROPOSAL_UNSIGNED' },
  {
    attack: 'sign twice: the same signature listed a second time',
    propose: ['--remove-key', 'root-2', '--remove-key', 'root-4', '--threshold', '1'],
    signWith: ['root-3'],
    edit: (d) => void d.root.signatures.push({ ...d.root.signatures[0]! }),
    code: 'E_PROPOSAL_INVALID',
  },
  {
    attack: 'its signature copied under another holder\'s key id',
    propose: ['--remove-key', 'root-2', '--remove-key', 'root-4', '--threshold', '1'],
    signWith: ['root-3'],
    edit: (d, { ids }) => void d.root.signatures.push({ keyid: ids['root-2']!, sig: d.root.signatures[0]!.sig }),
    code: 'E_PROPOSAL_TAMPERED',
  },
  {
    attack: 'another holder\'s signature copied from the published 3.root.json (an older root)',
    propose: ['--remove-key', 'root-2', '--remove-key', 'root-4', '--threshold', '1'],
    signWith: ['root-3'],
    edit: async (d, { ids, fx }) => void d.root.signatures.push(await publishedSignature(fx, 3, ids['root-2']!)),
    code: 'E_PROPOSAL_TAMPERED',
  },
  {
    attack: 'another holder\'s signature copied from another proposal for the same version (root-2 signed that one)',
    propose: ['--remove-key', 'root-2', '--remove-key', 'root-4', '--threshold', '1'],
    signWith: ['root-3'],
    edit: async (d, { ids, fx }) => {
      const other = path.join(fx.dir, 'proposals/other.json');
      await ok(fx, 'repo', 'root', 'propose', ...repoFlags(fx), '--out', other, '--threshold', '3');
      await ok(fx, 'repo', 'root', 'sign', other, '--key', path.join(fx.keysDir, 'root-2.pem'), '--yes', ...repoFlags(fx));
      d.root.signatures.push((JSON.parse(await readFile(other, 'utf8')) as Doc).root.signatures.find((s) => s.keyid === ids['root-2'])!);
    },
    code: 'E_PROPOSAL_TAMPERED',
  },
  {
    attack: 'the removed key\'s signature added by hand (it is in neither root)',
    propose: ['--remove-key', 'root-2', '--remove-key', 'root-4', '--threshold', '1'],
    signWith: ['root-3'],
    // A valid signature by the removed key over a root it was in (2.root.json): it verifies over nothing here.
    edit: async (d, { ids, fx }) => void d.root.signatures.push(await publishedSignature(fx, 2, ids.root!)),
    code: 'E_PROPOSAL_TAMPERED',
  },
  { attack: 'the removed key re-added by the proposal and signing it (meets the new root\'s 2, not the current root\'s)', propose: ['--remove-key', 'root-2', '--remove-key', 'root-4', '--add-key', 'ROOT_PEM', '--threshold', '2'], signWith: ['root-3', 'root'], code: 'E_PROPOSAL_UNSIGNED' },
];

test('attack: the holder of one root key of a 2-of-3 root (and of a key the root removed) cannot publish a root alone; nothing is written', async (t) => {
  const { fx, flags, key, ids } = await twoOfThree(t);
  const timestamp = await readFile(path.join(fx.repoDir, 'metadata/timestamp.json'));
  for (const [i, a] of attacks.entries()) {
    const file = path.join(fx.dir, `proposals/attack-${i}.json`);
    await ok(fx, 'repo', 'root', 'propose', ...flags, '--out', file, ...a.propose.map((x) => (x === 'ROOT_PEM' ? key('root') : x)));
    for (const s of a.signWith) await ok(fx, 'repo', 'root', 'sign', file, '--key', key(s), '--yes', ...flags);
    if (a.edit) {
      const doc = JSON.parse(await readFile(file, 'utf8')) as Doc;
      await a.edit(doc, { ids, fx });
      await writeFile(file, JSON.stringify(doc, null, 2));
    }
    await refused(fx, a.code, 'repo', 'root', 'publish', file, ...flags).catch((e: Error) => assert.fail(`${a.attack}: ${e.message}`));
    assert.equal(existsSync(path.join(fx.repoDir, 'metadata/4.root.json')), false, a.attack);
    assert.deepEqual(await readFile(path.join(fx.repoDir, 'metadata/timestamp.json')), timestamp, a.attack);
  }
  // The removed key cannot even sign through the CLI.
  const file = path.join(fx.dir, 'proposals/attack-cli.json');
  await ok(fx, 'repo', 'root', 'propose', ...flags, '--out', file, '--threshold', '1');
  await refused(fx, 'E_PROPOSAL_KEY_NOT_IN_ROLE', 'repo', 'root', 'sign', file, '--key', key('root'), '--yes', ...flags);
});

test('attack: the holder of one root key of a 2-of-3 root, with write access to the repository, writes the next root signed by itself alone: provenant download, tuf-js and python-tuf refuse it and stay on root v3', async (t) => {
  const { fx, flags } = await twoOfThree(t);
  const srv = await startStaticServer(fx.repoDir, t);
  const h = hosts(fx, () => srv.url);
  await release(fx, 'datadog-postgres', '1.0.0');
  await h.verify('datadog-postgres', '1.0.0');
  assert.deepEqual(await h.rootVersions(), [3, 3]);
  // The root it wants (itself alone, threshold 1), as propose writes it, signed by root-3 only.
  const file = path.join(fx.dir, 'proposals/alone.json');
  await ok(fx, 'repo', 'root', 'propose', ...flags, '--out', file, '--remove-key', 'root-2', '--remove-key', 'root-4', '--threshold', '1');
  const p = parseProposal(await readFile(file), file);
  await writeFile(path.join(fx.repoDir, metadataKey('root', 4)), serializeMetadata(await signMetadata(p.root!.signed, [await loadSigner(fx.keysDir, 'root-3', {})], 'root')));
  await assert.rejects(h.provenant('datadog-postgres', '1.0.0'), (e: Error & { code?: string }) => /^E_TUF_/.test(e.code ?? ''));
  await assert.rejects(h.tufjs('datadog-postgres', '1.0.0'), /root was signed by 1\/2 keys/);
  await assert.rejects(h.python('datadog-postgres', '1.0.0'), /UnsignedMetadataError/);
  assert.deepEqual(await h.rootVersions(), [3, 3]);
  // And publish, given that root as a proposal signed once, refuses it too: the planted root is taken for an unfinished publish of it, and its thresholds are still checked (E_PROPOSAL_UNSIGNED).
  await assert.rejects(publishProposal(fx.storage, keyStoreSignerSource(fx.keysDir, {}), file), (e: Error & { code?: string }) => e.code === 'E_PROPOSAL_UNSIGNED');
});
