import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compareVersions, isPrerelease, isValidVersion, newestVersion, normalizeVersion } from '../../src/formats/pep440.ts';

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
  for (const bad of ['', 'latest', '1.0.0.', '1..0', '1.0+', '1.0-foo', 'v', '1.0 beta']) {
    assert.equal(isValidVersion(bad), false, bad);
    assert.throws(() => normalizeVersion(bad), TypeError);
  }
});

test('orders dev < pre < final < post, epochs first, local after public', () => {
  const ordered = [
    '1.0.dev0', '1.0.dev1', '1.0a1.dev0', '1.0a1', '1.0a2', '1.0b1', '1.0rc1', '1.0rc2.post1',
    '1.0', '1.0+abc', '1.0+abc.5', '1.0+5', '1.0.post1.dev0', '1.0.post1', '1.0.1', '1.1.dev0', '1.10', '2.0', '1!0.1',
  ];
  for (let i = 0; i < ordered.length; i++)
    for (let j = 0; j < ordered.length; j++) {
      const c = Math.sign(compareVersions(ordered[i]!, ordered[j]!));
      assert.equal(c, Math.sign(i - j), `${ordered[i]} vs ${ordered[j]}`);
    }
  assert.equal(compareVersions('1.0', '1.0.0'), 0);
  assert.equal(compareVersions('1.0.0-RC1', '1.0rc1'), 0);
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
  assert.equal(newestVersion([]), undefined);
});
