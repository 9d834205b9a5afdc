import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { keyNameNotes } from '../../src/app/ceremony-sign.ts';
import { repoFixture } from '../download/helpers/fixture.ts';
import { cli, ok, repoFlags, withRecomputedSummary } from '../ceremony/helpers.ts';

test('keyNameNotes: a name the holder\'s key store gives otherwise, or a key it does not know, is pointed out', () => {
  const id = (c: string) => c.repeat(64);
  assert.deepEqual(keyNameNotes({ [id('a')]: 'alice' }, undefined), []);
  assert.deepEqual(keyNameNotes({ [id('a')]: 'alice' }, { [id('a')]: 'alice' }), []);
  assert.match(keyNameNotes({ [id('a')]: 'alice' }, { [id('a')]: 'mallory' })[0]!, /names aaaaaaaaaaaa… "alice"; your key store calls it "mallory"/);
  assert.match(keyNameNotes({ [id('b')]: 'alice\u202e' }, {})[0]!, /"alice\\u\{202e\}"; your key store does not know this key/);
});

/**
 * Names in a proposal are the proposer's words. Someone editing it in transit renames the key it
 * adds to "root" (with a summary recomputed to match, so it is not TAMPERED): a holder signing
 * with their key store sees that their store calls that key otherwise before confirming.
 */
test('attack: a proposal that gives a key a misleading name shows the holder their own key store\'s name for it', async (t) => {
  const fx = await repoFixture(t, { binCount: 2 });
  const flags = repoFlags(fx);
  await ok(fx, 'repo', 'root', 'propose', ...flags, '--add-key', 'new', '--threshold', '2');
  const file = path.join(fx.dir, 'proposals/root-v2.json');
  const doc = JSON.parse(await readFile(file, 'utf8')) as { summary: string[]; keyNames: Record<string, string> };
  const added = Object.entries(doc.keyNames).find(([, n]) => n === 'root-2')![0];
  doc.keyNames[added] = 'root';
  await writeFile(file, await withRecomputedSummary(fx, doc, file));
  const r = await cli(fx, 'repo', 'root', 'sign', file, '--key', path.join(fx.keysDir, 'root.pem'), '--yes', ...flags);
  assert.equal(r.code, 0, r.err);
  assert.match(r.err, new RegExp(`note: the proposal names ${added.slice(0, 12)}… "root"; your key store calls it "root-2"`));
});
