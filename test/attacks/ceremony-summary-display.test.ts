import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { Targets } from '@tufjs/models';
import { summarize } from '../../src/ceremony/proposal.ts';
import { loadTrustedState } from '../../src/tuf/trusted-state.ts';
import { repoFixture } from '../download/helpers/fixture.ts';
import { cli, ok, repoFlags, withRecomputedSummary } from '../ceremony/helpers.ts';

/**
 * keyNames (and target paths) are the proposer's words, copied into the summary a holder reads on
 * a terminal before signing. An attacker editing the file in transit writes a name that, printed,
 * moves the cursor up and erases the line above ("root role: threshold 1 -> 2" gone), reverses
 * what follows (RLO), or looks like another name (zero-width space); the summary is recomputed
 * with the same names so it still "matches". What the holder sees must be every character as it is.
 */
const tricks: [string, string][] = [
  ['erase the line above', 'root-2\u001b[1A\u001b[2K'],
  ['a line of its own', 'root-2)\n  root role: threshold unchanged ('],
  ['right-to-left override', 'root-2\u202e)1 >- 2 dlohserht'],
  ['zero-width space (looks like root-2)', 'root\u200b-2'],
  ['carriage return', 'root-2\r  '],
];

test('attack: a key name with terminal escapes, line breaks, bidi or invisible characters is shown escaped to the holder who signs (and in the file\'s summary)', async (t) => {
  for (const [what, name] of tricks) {
    const fx = await repoFixture(t, { binCount: 2 });
    const flags = repoFlags(fx);
    await ok(fx, 'repo', 'root', 'propose', ...flags, '--add-key', 'new', '--threshold', '2');
    const file = path.join(fx.dir, 'proposals/root-v2.json');
    const doc = JSON.parse(await readFile(file, 'utf8')) as { keyNames: Record<string, string>; summary: string[] };
    const added = Object.entries(doc.keyNames).find(([, n]) => n === 'root-2')![0];
    doc.keyNames[added] = name;
    await writeFile(file, await withRecomputedSummary(fx, doc, file));

    const r = await cli(fx, 'repo', 'root', 'sign', file, '--key', path.join(fx.keysDir, 'root.pem'), '--yes', ...flags);
    assert.equal(r.code, 0, r.err);
    const shown = r.err.replace(/…/g, '');
    assert.doesNotMatch(shown, /[^\x20-\x7e\n]/u, `${what}: the holder's terminal got ${JSON.stringify(r.err)}`);
    assert.match(r.err, /root role: threshold 1 -> 2\n/, what);
    assert.ok(doc.summary.every((s) => !/[^\x20-\x7e…]/u.test(s)), `${what}: ${JSON.stringify(doc.summary)}`);
  }
});

test('attack: a target path with control, bidi or invisible characters is shown escaped in the summary', async (t) => {
  const fx = await repoFixture(t, { binCount: 2 });
  const state = await loadTrustedState(fx.storage);
  const base = state.targets.signed;
  const json = base.toJSON() as { targets: Record<string, unknown> };
  const evilPath = 'policy/\u202enosj.ycilop-noitatsetta\u001b[2K';
  json.targets[evilPath] = { length: 1, hashes: { sha256: 'ab'.repeat(32) } };
  const lines = summarize({ root: state.root.signed, targets: base }, { targets: Targets.fromJSON(json as never) }, () => '');
  for (const l of lines) assert.doesNotMatch(l.replace(/…/g, ''), /[^\x20-\x7e]/u, JSON.stringify(l));
  assert.ok(lines.includes(`target added: policy/\\u{202e}nosj.ycilop-noitatsetta\\u{1b}[2K (sha256 ${'ab'.repeat(32)}, 1 bytes)`), lines.join('\n'));
});
