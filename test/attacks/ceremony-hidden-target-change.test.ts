import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { repoFixture } from '../download/helpers/fixture.ts';
import { ok, refused, repoFlags } from '../ceremony/helpers.ts';

interface TargetEntry { length: number; hashes: Record<string, string>; custom?: Record<string, unknown> }
interface Doc { targets: { signed: { targets: Record<string, TargetEntry> } } }

/**
 * A targets proposal that only renews expiry lists the top-level targets (the attestation policy)
 * unchanged. Edited in transit, an entry keeps its sha256 and length but gains another hash (that
 * no host can match: every host then fails to fetch the policy) or custom data; the summary,
 * which compared only sha256 and length, still read "nothing changed" and the holder signed.
 */
const edits: [string, (e: TargetEntry) => void][] = [
  ['a sha512 that no bytes match', (e) => void (e.hashes.sha512 = '00'.repeat(64))],
  ['custom data', (e) => void (e.custom = { note: 'x' })],
];

test('attack: a top-level target entry changed in anything but sha256 and length shows in the summary (the unchanged summary is refused as tampered)', async (t) => {
  const fx = await repoFixture(t, { binCount: 2 });
  const flags = repoFlags(fx);
  await ok(fx, 'repo', 'targets', 'propose', ...flags, '--expires', '200d');
  const file = path.join(fx.dir, 'proposals/targets-v2.json');
  const original = await readFile(file, 'utf8');
  const [target] = Object.keys((JSON.parse(original) as Doc).targets.signed.targets);
  assert.ok(target, 'the targets metadata lists the policy');
  for (const [what, edit] of edits) {
    const doc = JSON.parse(original) as Doc;
    edit(doc.targets.signed.targets[target]!);
    await writeFile(file, JSON.stringify(doc, null, 2));
    const err = await refused(fx, 'E_PROPOSAL_TAMPERED', 'repo', 'targets', 'sign', file, '--key', path.join(fx.keysDir, 'targets.pem'), '--yes', ...flags).catch((e: Error) => assert.fail(`${what}: ${e.message}`));
    assert.ok(err.includes(`target changed: ${target}`), `${what}: ${err}`);
  }
});
