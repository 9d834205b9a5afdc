import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Targets } from '@tufjs/models';
import { ProvenantError } from '../../src/errors.ts';
import { consistentTargetPath, pointerTargetPath, POLICY_TARGET } from '../../src/formats/layout.ts';
import { compareVersions, equalityKey, parseVersion } from '../../src/formats/pep440.ts';
import { renderPointer } from '../../src/formats/pointer.ts';
import { defaultPolicy, renderPolicy } from '../../src/policy/policy.ts';
import { objectPropsFor } from '../../src/storage/object-props.ts';
import { succinctRolesOf, targetFile } from '../../src/tuf/changes.ts';
import { loadBin, loadTrustedState } from '../../src/tuf/trusted-state.ts';
import { commitChanges } from '../../src/tuf/writer.ts';
import { checkPointer } from '../../src/verify/pointer-check.ts';
import { publish, repoFixture, rogueSigner, signedRelease, type RepoFixture } from '../download/helpers/fixture.ts';
import { download, expectRefused } from '../download/helpers/run.ts';

/*
 * Holding only the online key, an attacker signs any pointer under any target path. These are the
 * spellings that could make a pointer for datadog-demo 1.0 deliver something else: PEP 440
 * (epochs, local versions, trailing zeros, case, lookalike digits), PEP 427 (build tags, extra
 * dashes), PEP 503 names (separators, case, lookalike letters) and URL encoding of the wheel URI.
 * Each is refused at the pointer schema check, before any wheel byte, or names the same release.
 */

const REPO = 'https://packages.example.com/integrations/';
const RELEASE = { project: 'datadog-demo', version: '1.0' };

function verdict(uri: string, pointer: { name?: string; version?: string } = {}, release = RELEASE): string {
  const bytes = new TextEncoder().encode(
    renderPointer({
      name: pointer.name ?? release.project,
      version: pointer.version ?? release.version,
      uri,
      digest: 'a'.repeat(64),
      length: 10,
      attestation: { uri: 'attestations/datadog-demo/a.sigstore.json', digest: 'b'.repeat(64), length: 5 },
    }),
  );
  try {
    checkPointer(bytes, { path: pointerTargetPath(release.project, release.version) } as never, release, REPO);
    return 'same release';
  } catch (e) {
    assert.ok(e instanceof ProvenantError, String(e));
    assert.equal(e.exitClass, 'verification');
    return e.code;
  }
}

test('wheel URIs under a 1.0 pointer: other versions and lookalikes are refused, spellings of the same release are not', () => {
  const cases: [uri: string, expected: string][] = [
    // PEP 440
    ['simple/datadog-demo/datadog_demo-1!1.0-py3-none-any.whl', 'E_WHEEL_VERSION_MISMATCH'],
    ['simple/datadog-demo/datadog_demo-1.0+evil-py3-none-any.whl', 'E_WHEEL_VERSION_MISMATCH'],
    ['simple/datadog-demo/datadog_demo-1.0.post0-py3-none-any.whl', 'E_WHEEL_VERSION_MISMATCH'],
    ['simple/datadog-demo/datadog_demo-1.0.dev0-py3-none-any.whl', 'E_WHEEL_VERSION_MISMATCH'],
    ['simple/datadog-demo/datadog_demo-1.0rc1-py3-none-any.whl', 'E_WHEEL_VERSION_MISMATCH'],
    ['simple/datadog-demo/datadog_demo-0!1.0.0-py3-none-any.whl', 'same release'],
    ['simple/datadog-demo/datadog_demo-1.00-py3-none-any.whl', 'same release'],
    ['simple/datadog-demo/datadog_demo-%EF%BC%91.0-py3-none-any.whl', 'E_POINTER_URI'], // fullwidth 1
    ['simple/datadog-demo/datadog_demo-%D9%A1.0-py3-none-any.whl', 'E_POINTER_URI'], // Arabic-Indic 1
    // PEP 427
    ['simple/datadog-demo/datadog_demo-1.0-1-py3-none-any.whl', 'same release'], // a build tag: same release
    ['simple/datadog-demo/datadog_demo-1.0-2.0-1-py3-none-any.whl', 'E_WHEEL_NAME_INVALID'],
    ['simple/datadog-demo/datadog_demo-1.0-py3-none-any.WHL', 'E_POINTER_URI'],
    ['simple/datadog-demo/datadog_demo_1-0-py3-none-any.whl', 'E_WHEEL_PROJECT_MISMATCH'], // project datadog-demo-1, version 0
    // PEP 503 names
    ['simple/datadog-demo/Datadog.Demo-1.0-py3-none-any.whl', 'same release'],
    ['simple/datadog-demo/datadog_d%D0%B5mo-1.0-py3-none-any.whl', 'E_POINTER_URI'], // Cyrillic е
    ['simple/datadog-demo/datadog_demo%E2%80%8B-1.0-py3-none-any.whl', 'E_POINTER_URI'], // zero-width space
    ['simple/datadog-demo/datadog_demox-1.0-py3-none-any.whl', 'E_WHEEL_PROJECT_MISMATCH'],
    // URL encoding
    ['simple/datadog-demo/datadog%5Fdemo-1.0-py3-none-any.whl', 'same release'], // %5F is `_`: the same name
    ['simple/datadog-demo/%2e%2e/datadog_demo-1.0-py3-none-any.whl', 'E_POINTER_URI'],
    ['simple/datadog-demo/datadog_demo-1.0-py3-none-any.whl%00.txt', 'E_POINTER_URI'],
    ['simple/datadog-demo/datadog_demo-2.0-py3-none-any.whl%2f..%2fdatadog_demo-1.0-py3-none-any.whl', 'E_POINTER_URI'],
    ['simple/datadog-demo/%252e%252e/datadog_demo-1.0-py3-none-any.whl', 'same release'], // a directory literally named %2e%2e
    ['simple/datadog-demo/datadog_demo-1.0-py3-none-any.whl;x', 'E_POINTER_URI'],
    ['simple/datadog-demo/datadog_demo-1.0-py3-none-any.whl/', 'E_POINTER_URI'],
    ['simple/datadog-demo/datadog_demo-1.0-py3-none-any.whl#x', 'E_POINTER_URI'],
  ];
  for (const [uri, expected] of cases) assert.equal(verdict(uri), expected, uri);
});

test('the pointer\'s own name and version must be exactly those its target path was published under', () => {
  const wheel = 'simple/datadog-demo/datadog_demo-1.0-py3-none-any.whl';
  const cases: [pointer: { name?: string; version?: string }, expected: string][] = [
    [{ version: '1.0.0' }, 'E_POINTER_MISMATCH'],
    [{ version: '1.0 ' }, 'E_POINTER_MISMATCH'],
    [{ name: 'datadog-demo-extra' }, 'E_POINTER_MISMATCH'],
    [{ name: 'Datadog_Demo' }, 'same release'],
  ];
  for (const [pointer, expected] of cases) assert.equal(verdict(wheel, pointer), expected, JSON.stringify(pointer));
});

test('equalityKey: one key per PEP 440 equality class (the installed-release record\'s key)', () => {
  const versions = ['1', '1.0', '1.0.0', 'v1.0', '0!1', '1.00', '01.0', '1.0+0', '1.0+00', '1!1.0', '1.0.post0', '1.0-0', '1.0a0', '1.0.dev0', '1.0RC1', '1.0rc1', '1.0+abc', '1.0+ABC', '1.0+abc.0', '1.1', '1.0.1'];
  for (const a of versions) {
    for (const b of versions) {
      const same = equalityKey(parseVersion(a)!) === equalityKey(parseVersion(b)!);
      assert.equal(same, compareVersions(a, b) === 0, `${a} vs ${b}`);
    }
  }
});

/** Adds `path` → `bytes` as a target of the bin the delegation gives it (or `bin`), re-signed with the online key. */
async function addToBin(fx: RepoFixture, path: string, bytes: Uint8Array, bin?: string): Promise<void> {
  const state = await loadTrustedState(fx.storage);
  const target = targetFile(path, bytes);
  const key = consistentTargetPath(path, target.hashes.sha256!);
  await fx.storage.putImmutable(key, bytes, objectPropsFor(key));
  const name = bin ?? succinctRolesOf(state.targets.signed).getRoleForTarget(path);
  const json = (await loadBin(fx.storage, state, name)).signed.toJSON() as { targets: Record<string, unknown> };
  json.targets[path] = target.toJSON();
  const online = [fx.online];
  await commitChanges(fx.storage, state, { root: [], targets: [], bins: online, snapshot: online, timestamp: online }, { bins: new Map([[name, Targets.fromJSON(json as never)]]) }, new Date());
}

test('the online key lists its own attestation policy in a bin: the targets role\'s policy still decides (E_ATTESTATION_KEY_UNTRUSTED)', async (t) => {
  const fx = await repoFixture(t);
  const rogue = rogueSigner();
  await addToBin(fx, POLICY_TARGET, renderPolicy(defaultPolicy({ attestationKeys: [rogue] })));
  const evil = await signedRelease(fx, 'datadog-demo', '6.6.6', { signers: [rogue] });
  await publish(fx, [evil]);
  await expectRefused(fx, fx.repoDir, 'datadog-demo', 'E_ATTESTATION_KEY_UNTRUSTED', 'verification');
});

test('the online key lists a pointer in a bin the delegation does not give it: ignored (E_VERSION_UNKNOWN), the genuine release stays the newest', async (t) => {
  const fx = await repoFixture(t);
  await publish(fx, [await signedRelease(fx, 'datadog-demo', '1.0.0')]);
  const forged = await signedRelease(fx, 'datadog-demo', '2.0.0');
  const path = pointerTargetPath('datadog-demo', '2.0.0');
  const state = await loadTrustedState(fx.storage);
  const roles = succinctRolesOf(state.targets.signed);
  const wrong = [...roles.getRoles()].find((b) => b !== roles.getRoleForTarget(path))!;
  await addToBin(fx, path, forged.pointer, wrong);
  await expectRefused(fx, fx.repoDir, 'datadog-demo', 'E_VERSION_UNKNOWN', 'not-found', { version: '2.0.0' });
  assert.equal((await download(fx, fx.repoDir, 'datadog-demo')).version, '1.0.0');
});
