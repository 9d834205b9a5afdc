import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { clean as libClean, compare as libCompare, satisfies as libSatisfies } from '@renovatebot/pep440';
import { compareVersions, isPostRelease, isPrerelease, isValidVersion, newestVersion, normalizeVersion, parseVersion } from '../../src/formats/pep440.ts';
import { parseSpecifierSet, specifierSetContains } from '../../src/wheel/specifier.ts';
import { python, tempDir } from '../helpers/peers.ts';

/** Runs `code` with `data` (read from a file: the corpus is larger than one argv string may be). */
async function py<T>(t: { after(fn: () => unknown): void }, code: string, input: unknown): Promise<T> {
  const file = path.join(await tempDir(t), 'data.json');
  await writeFile(file, JSON.stringify(input));
  const { stdout } = await python(['-c', `import json, sys\ndata = json.load(open(sys.argv[1]))\n${code}`, file]);
  return JSON.parse(stdout) as T;
}

const BIG = '9007199254740993'; // 2^53 + 1: the first integer a JS number cannot hold
const HUGE = '9'.repeat(300);

/** Every spelling PEP 440 allows and many it does not, from a fixed seed. */
function versionCorpus(): string[] {
  let seed = 4242;
  const pick = <T>(xs: readonly T[]): T => xs[((seed = (seed * 1103515245 + 12345) >>> 0) >>> 16) % xs.length]!;
  const space = ['', '', '', ' ', '\t', '\n ', '\u00a0', '\u2003', '\x1c', '\u0085', '\ufeff', '\u200b'];
  const prefix = ['', '', 'v', 'V'];
  const epoch = ['', '', '', '0!', '1!', '2!', '00!', `${BIG}!`];
  const segment = ['0', '1', '2', '00', '01', '9', '10', '23', BIG, '9007199254740992', `1${'0'.repeat(30)}`, HUGE];
  const pre = ['', '', '', 'a', 'A1', 'alpha2', '-beta', '.b.3', '_c4', 'rc', 'RC_5', 'pre', 'preview-6', `-rc.${BIG}`, 'a0'];
  const post = ['', '', '', '-1', '.post', 'post2', '-rev3', '_r', `.POST.${BIG}`, '-0', '.post0'];
  const dev = ['', '', '', '.dev', 'dev1', '-DEV_2', `.dev${BIG}`, '.dev0'];
  const local = ['', '', '', '+abc', '+Ubuntu-1_02', '+1e5', '+Infinity', '+0x1', '+5', '+05.a', `+abc.5.${BIG}`, '+a.b', '+a', '+1', '+01'];
  const out = new Set<string>();
  for (let i = 0; i < 1500; i++) {
    const release = Array.from({ length: 1 + (pick([0, 1, 2, 3]) as number) }, () => pick(segment)).join('.');
    out.add(pick(space) + pick(prefix) + pick(epoch) + release + pick(pre) + pick(post) + pick(dev) + pick(local) + pick(space));
  }
  for (const fixed of [
    `1.${BIG}`, `1.${HUGE}`, `1.${'9'.repeat(4300)}`, `1.${'9'.repeat(4301)}`, `1.${'0'.repeat(4300)}1`, `1.0+${'a'.repeat(5000)}`, `1.0+${'1'.repeat(4301)}`,
    '1.0', '1.0.0', '1', '1.0.0.0.0', '0', '1!0', '1.0.', '1..0', '.1', '', ' ', 'v', '1.0+', '+1', '1.0-foo', '1.0 rc1', 'a1', '1.0.post1.post2',
    '1.0-', '1.0_', '1.0rc1rc2', '1.0dev1.dev2', '1.0+a..b', '1.0+a-', '١.٠', '1.0pOsT1', '1.0ſ', 'vv1.0', '1.0.dev1+local', '1.0a1.post1.dev1',
    '1.0-r1', '1.0-1.dev1', '1.0c', '1.0pre', '1.0preview', '1.0rev', '1!', '!1.0', '1.0a1.dev', '1.0.a.1',
  ]) out.add(fixed);
  return [...out];
}

interface PyVersion { norm: string | null; pre: boolean; post: boolean }

test('normalisation, validity, pre/post-release flags, ordering and equality match packaging on a corpus', async (t) => {
  const corpus = versionCorpus();
  const want = await py<{ facts: (PyVersion | null)[]; rank: (number | null)[] }>(t, [
    'from packaging.version import Version, InvalidVersion',
    'facts, parsed = [], []',
    'for s in data:',
    '    try:',
    '        v = Version(s)',
    '    except (InvalidVersion, ValueError):',
    '        facts.append(None); parsed.append(None); continue',
    '    facts.append({"norm": str(v), "pre": v.is_prerelease, "post": v.is_postrelease}); parsed.append(v)',
    'order = sorted((i for i, v in enumerate(parsed) if v is not None), key=lambda i: parsed[i])',
    'rank, r, prev = [None] * len(data), -1, None',
    'for i in order:',
    '    if prev is None or parsed[i] != prev: r += 1',
    '    rank[i], prev = r, parsed[i]',
    'print(json.dumps({"facts": facts, "rank": rank}))',
  ].join('\n'), corpus);

  const invalid = corpus.filter((_, i) => want.facts[i] === null).length;
  assert.ok(invalid > 30 && invalid < corpus.length - 800, `the corpus has both kinds (${invalid} invalid of ${corpus.length})`);
  corpus.forEach((s, i) => {
    const v = parseVersion(s);
    const got = v ? { norm: normalizeVersion(s), pre: isPrerelease(v), post: isPostRelease(v) } : null;
    assert.deepEqual(got, want.facts[i], JSON.stringify(s.length > 80 ? `${s.slice(0, 80)}…` : s));
    assert.equal(isValidVersion(s), want.facts[i] !== null);
  });

  // Ranks from our sort (ties are equal versions, as packaging's == says).
  const valid = corpus.flatMap((s, i) => (want.facts[i] ? [i] : []));
  const sorted = [...valid].sort((a, b) => compareVersions(corpus[a]!, corpus[b]!));
  const rank: (number | null)[] = corpus.map(() => null);
  let r = -1;
  sorted.forEach((idx, k) => {
    if (k === 0 || compareVersions(corpus[sorted[k - 1]!]!, corpus[idx]!) !== 0) r++;
    rank[idx] = r;
  });
  assert.deepEqual(rank, want.rank);
});

test('huge numbers stay exact: 2^53+1 and a 300-digit segment', () => {
  assert.equal(normalizeVersion(`1.${BIG}`), `1.${BIG}`);
  assert.equal(normalizeVersion(`v1.${HUGE}.0-RC.${BIG}`), `1.${HUGE}.0rc${BIG}`);
  assert.ok(compareVersions(`1.${BIG}`, '1.9007199254740992') > 0);
  assert.ok(compareVersions(`1.${HUGE}`, `1.${'9'.repeat(299)}8`) > 0);
  assert.equal(isValidVersion(`1.${'9'.repeat(4301)}`), false, 'packaging (Python int) refuses it');
});

test('where @renovatebot/pep440 falls short of packaging (why pep440.ts keeps its own numbers and order)', async (t) => {
  const want = await py<{ norm: string[]; gt: boolean; contains: boolean[] }>(t, [
    'from packaging.version import Version',
    'from packaging.specifiers import SpecifierSet',
    'print(json.dumps({',
    '  "norm": [str(Version(s)) for s in data["norm"]],',
    '  "gt": Version(data["gt"][0]) > Version(data["gt"][1]),',
    '  "contains": [SpecifierSet(s).contains(v) for v, s in data["contains"]],',
    '}))',
  ].join('\n'), {
    norm: [`1.${BIG}`, `1.${HUGE}`, '1.0+1e5', '1.0+Infinity'],
    gt: [`1.${BIG}`, '1.9007199254740992'],
    contains: [['1.0.post2', '>1.0.post1'], ['3.9007199254740993', '>3.9007199254740992']],
  });
  assert.deepEqual(want, { norm: [`1.${BIG}`, `1.${HUGE}`, '1.0+1e5', '1.0+infinity'], gt: true, contains: [true, true] });
  // The library: JS numbers, local segments read with Number(), simplified `>`.
  assert.deepEqual([`1.${BIG}`, `1.${HUGE}`, '1.0+1e5', '1.0+Infinity'].map(libClean), ['1.9007199254740992', '1.1e+300', '1.0+100000', '1.0+Infinity']);
  assert.equal(libCompare(`1.${BIG}`, '1.9007199254740992'), 0);
  assert.deepEqual([libSatisfies('1.0.post2', '>1.0.post1'), libSatisfies('3.9007199254740993', '>3.9007199254740992')], [false, false]);
  // pep440.ts and specifier.ts agree with packaging.
  assert.deepEqual([`1.${BIG}`, `1.${HUGE}`, '1.0+1e5', '1.0+Infinity'].map(normalizeVersion), want.norm);
  assert.equal(compareVersions(`1.${BIG}`, '1.9007199254740992') > 0, want.gt);
  const spec = parseSpecifierSet('>3.9007199254740992');
  assert.ok(typeof spec !== 'string');
  assert.equal(specifierSetContains(spec, '3.9007199254740993'), true);
});

test('specifier sets (requires-python) contain the same final versions as packaging says, huge numbers included', async (t) => {
  const specs = [
    '>=3.9', '>=3.9,<4', '!=3.9.*', '==3.*', '~=3.10', '~=3.10.2', '>3', '<3.10', '<=3.11.4', '==3.9.100', '===3.9.100', '==1!3.9', '>=1!0',
    `>=3.${BIG}`, `<3.${BIG}`, `==3.9007199254740992.*`, `~=3.9007199254740992`, `!=3.${BIG}`, `>3.9007199254740992`, `<=3.${HUGE}`, `==3.${HUGE}.*`,
    '==3.9+local', '!=3.9+local', '>=3.9.0rc1', '<3.10rc1', '>3.9.post1', '<=3.9.post1', '==3.9.0', '!=3.9.0',
  ];
  const candidates = ['3.9', '3.9.0', '3.9.100', '3.10', '3.10.2', '3.11.4', '3.11.5', '4.0', '2.7.18', '3', `3.${BIG}`, '3.9007199254740992', `3.${HUGE}`, `3.${HUGE}.1`, '1!3.9', '3.9.1'];
  const want = await py<boolean[][]>(t, 'from packaging.specifiers import SpecifierSet\nprint(json.dumps([[SpecifierSet(s).contains(v) for v in data["c"]] for s in data["s"]]))', { s: specs, c: candidates });
  specs.forEach((s, i) => {
    const parsed = parseSpecifierSet(s);
    assert.ok(typeof parsed !== 'string', `${s}: ${String(parsed)}`);
    assert.deepEqual(candidates.map((c) => specifierSetContains(parsed, c)), want[i], s);
  });
});

test('normalises spellings the way packaging.version does', () => {
  const cases: [string, string][] = [
    ['1.0.0', '1.0.0'],
    ['v1.01', '1.1'],
    ['1.0.0-RC1', '1.0.0rc1'],
    ['1.0alpha2', '1.0a2'],
    ['1.0.beta', '1.0b0'],
    ['1.0c3', '1.0rc3'],
    ['1.0-preview.1', '1.0rc1'],
    ['1.0-1', '1.0.post1'],
    ['1.0.rev2', '1.0.post2'],
    ['1.0post', '1.0.post0'],
    ['1.0-dev', '1.0.dev0'],
    ['1!2.0', '1!2.0'],
    ['0!2.0', '2.0'],
    ['1.0+Ubuntu-1_02', '1.0+ubuntu.1.2'],
    ['  23.2.0\n', '23.2.0'],
  ];
  for (const [input, want] of cases) assert.equal(normalizeVersion(input), want, input);
});

test('rejects what is not PEP 440', () => {
  for (const bad of ['', 'latest', '1.0.0.', '1..0', '1.0+', '1.0-foo', 'v', '1.0 beta', '\ufeff1.0']) {
    assert.equal(isValidVersion(bad), false, bad);
    assert.throws(() => normalizeVersion(bad), TypeError);
  }
});

test('isPrerelease covers pre and dev, not post or local', () => {
  assert.equal(isPrerelease('1.0rc1'), true);
  assert.equal(isPrerelease('1.0.dev3'), true);
  assert.equal(isPrerelease('1.0.post1.dev0'), true);
  assert.equal(isPrerelease('1.0.post1'), false);
  assert.equal(isPrerelease('1.0+local'), false);
  assert.throws(() => isPrerelease('nope'), TypeError);
});

test('newestVersion prefers finals, falls back to pre-releases, skips junk', () => {
  assert.equal(newestVersion(['23.1.0', '23.2.0rc1', '23.10.0', 'junk', '23.2.0']), '23.10.0');
  assert.equal(newestVersion(['1.0', '2.0b1'], { includePrereleases: true }), '2.0b1');
  assert.equal(newestVersion(['2.0b1', '2.0a1']), '2.0b1');
  assert.equal(newestVersion([`1.${BIG}`, '1.9007199254740992']), `1.${BIG}`);
  assert.equal(newestVersion([]), undefined);
});
