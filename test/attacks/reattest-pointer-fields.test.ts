import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Targets, TargetFile } from '@tufjs/models';
import { checkReattestedPointer } from '../../src/formats/reattested-pointer.ts';
import { renderPointer, type Pointer } from '../../src/formats/pointer.ts';
import { binWithReattested } from '../../src/tuf/changes.ts';
import { ProvenantError } from '../../src/errors.ts';

/**
 * The online key alone, through publish's `reattest: true` path (what `repo reattest` commits):
 * every pointer field but the attestation reference, and every bin entry field that names the
 * release and its wheel, must stay as published. (Hosts are the last line: they check the
 * attestation against the TUF-signed policy; these are the publisher's own refusals.)
 */
const h = (c: string) => c.repeat(64);
const published: Pointer = { name: 'datadog-demo', version: '1.0.0', uri: 'simple/datadog-demo/datadog_demo-1.0.0-py3-none-any.whl', digest: h('a'), length: 4096, attestation: { uri: 'attestations/datadog-demo/x.sigstore.json', digest: h('b'), length: 900 } };
const bytes = (p: Pointer) => new TextEncoder().encode(renderPointer(p));

const pointerEdits: [string, (p: Pointer) => Pointer][] = [
  ['another wheel uri', (p) => ({ ...p, uri: 'simple/datadog-demo/evil/datadog_demo-1.0.0-py3-none-any.whl' })],
  ['another wheel digest', (p) => ({ ...p, digest: h('c') })],
  ['another wheel length', (p) => ({ ...p, length: 4097 })],
  ['another version', (p) => ({ ...p, version: '1.0.1' })],
  ['another name', (p) => ({ ...p, name: 'datadog-demo2' })],
  ['an extra field', (p) => ({ ...p, mirror: 'https://evil.example/' })],
];

test('attack (online key, reattest path): a re-attested pointer that changes anything but its attestation is E_RELEASE_IMMUTABLE, naming the field', () => {
  for (const [what, edit] of pointerEdits) {
    const next = { ...edit(published), attestation: { uri: 'attestations/datadog-demo/y.sigstore.json', digest: h('d'), length: 901 } };
    assert.throws(() => checkReattestedPointer(bytes(published), bytes(next), 'p'), (e: unknown) => e instanceof ProvenantError && e.code === 'E_RELEASE_IMMUTABLE' && /pointer\.(uri|digest|length|version|name|mirror)/.test(e.message), what);
  }
  // Only the attestation reference changing is the re-attestation itself.
  assert.doesNotThrow(() => checkReattestedPointer(bytes(published), bytes({ ...published, attestation: { uri: 'attestations/datadog-demo/y.sigstore.json', digest: h('d'), length: 901 } }), 'p'));
});

const entry = (custom: Record<string, unknown>) => TargetFile.fromJSON('datadog-demo/1.0.0.pointer', { length: 300, hashes: { sha256: h('e') }, custom } as never);
const named = { name: 'datadog-demo', version: '1.0.0', wheel: { file: 'datadog_demo-1.0.0-py3-none-any.whl', sha256: h('a'), length: 4096 } };
const entryEdits: [string, Record<string, unknown>, string][] = [
  ['another wheel sha256', { ...named, wheel: { ...named.wheel, sha256: h('c') } }, 'E_RELEASE_IMMUTABLE'],
  ['another wheel length', { ...named, wheel: { ...named.wheel, length: 1 } }, 'E_RELEASE_IMMUTABLE'],
  ['another wheel file', { ...named, wheel: { ...named.wheel, file: 'datadog_demo-1.0.0-cp311-none-any.whl' } }, 'E_RELEASE_IMMUTABLE'],
  ['another version', { ...named, version: '1.0.1' }, 'E_RELEASE_IMMUTABLE'],
  ['another name', { ...named, name: 'evil' }, 'E_RELEASE_IMMUTABLE'],
  ['no wheel recorded', { name: named.name, version: named.version }, 'E_RELEASE_IMMUTABLE'],
];

test('attack (online key, reattest path): a re-attested bin entry for another wheel, name or version, or for a release never published, is refused', () => {
  const bin = new Targets({ version: 3, specVersion: '1.0.31', expires: '2030-01-01T00:00:00Z', targets: { 'datadog-demo/1.0.0.pointer': entry(named) } });
  for (const [what, custom, code] of entryEdits) {
    assert.throws(() => binWithReattested(bin, [entry(custom)], 4, '2030-01-01T00:00:00Z'), (e: unknown) => e instanceof ProvenantError && e.code === code, what);
  }
  const other = TargetFile.fromJSON('datadog-demo/9.9.9.pointer', { length: 1, hashes: { sha256: h('f') }, custom: { ...named, version: '9.9.9' } } as never);
  assert.throws(() => binWithReattested(bin, [other], 4, '2030-01-01T00:00:00Z'), (e: unknown) => e instanceof ProvenantError && e.code === 'E_REATTEST_NOT_PUBLISHED');
  const next = binWithReattested(bin, [TargetFile.fromJSON('datadog-demo/1.0.0.pointer', { length: 301, hashes: { sha256: h('0') }, custom: named } as never)], 4, '2030-01-01T00:00:00Z');
  assert.equal(next.targets['datadog-demo/1.0.0.pointer']!.hashes.sha256, h('0'));
});
