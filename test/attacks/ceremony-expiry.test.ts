import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { repoFixture } from '../download/helpers/fixture.ts';
import { ok, refused, repoFlags, withRecomputedSummary } from '../ceremony/helpers.ts';

/**
 * The expiry of a proposal edited in transit (the summary recomputed to match, before anyone
 * signs): far past the role's limit (a root valid for ever outlives any compromise of its keys;
 * propose refuses it, E_EXPIRY_TOO_LONG), or in a form tuf-js reads but python-tuf does not
 * (fractional seconds, no time, an offset): every pip/python-tuf host would fail on that root for
 * good. A holder reads "expires 2027-…" and would sign either.
 */
const later = (years: number) => new Date(Date.now() + years * 365 * 86_400_000).toISOString();
const cases: [string, () => string][] = [
  ['9999, far past the root limit (1825d)', () => '9999-12-31T23:59:59Z'],
  ['six years: just past the limit', () => later(6).replace(/\.\d{3}Z$/, 'Z')],
  ['fractional seconds', () => later(0.5)],
  ['a date without a time', () => later(0.5).slice(0, 10)],
  ['an offset instead of Z', () => later(0.5).replace(/\.\d{3}Z$/, '+00:00')],
];

test('attack: a root expiry edited in transit past the role\'s limit, or in a form python-tuf cannot read, is refused before anyone signs', async (t) => {
  const fx = await repoFixture(t, { binCount: 2 });
  const flags = repoFlags(fx);
  await ok(fx, 'repo', 'root', 'propose', ...flags, '--add-key', 'new');
  const file = path.join(fx.dir, 'proposals/root-v2.json');
  const original = await readFile(file, 'utf8');
  for (const [what, expires] of cases) {
    const doc = JSON.parse(original) as { root: { signed: { expires: string } }; summary: string[]; keyNames: Record<string, string> };
    doc.root.signed.expires = expires();
    await writeFile(file, await withRecomputedSummary(fx, doc, file));
    const err = await refused(fx, 'E_PROPOSAL_INVALID', 'repo', 'root', 'sign', file, '--key', path.join(fx.keysDir, 'root.pem'), '--yes', ...flags).catch((e: Error) => assert.fail(`${what}: ${e.message}`));
    assert.match(err, /root\.expires/, what);
  }
});
