import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ProvenantError } from '../../src/errors.ts';
import { layoutOfTargets, parseDdPointer, renderDdPointer, type DdPointer } from '../../src/formats/datadog-v2.ts';

const GOOD: DdPointer = {
  digest: 'a'.repeat(64),
  length: 10,
  version: '1.0.0',
  wheel_path: '/wheels/datadog-demo/datadog_demo-1.0.0-py3-none-any.whl',
  attestation_path: '/attestations/datadog-demo/1.0.0.sigstore.json',
  attestation_digest: 'b'.repeat(64),
  attestation_length: 20,
};
const enc = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));

test('a Datadog pointer renders to fixed bytes and reads back as provenant\'s pointer shape', () => {
  const bytes = renderDdPointer({ ...GOOD, extra: 'ignored' } as DdPointer);
  assert.deepEqual(bytes, renderDdPointer(GOOD), 'unknown keys are dropped, the order is fixed');
  assert.deepEqual(Object.keys(JSON.parse(new TextDecoder().decode(bytes)) as object), ['digest', 'length', 'version', 'wheel_path', 'attestation_path', 'attestation_digest', 'attestation_length']);
  assert.deepEqual(parseDdPointer(bytes, 'datadog-demo', 'p.json'), {
    name: 'datadog-demo',
    version: '1.0.0',
    uri: 'wheels/datadog-demo/datadog_demo-1.0.0-py3-none-any.whl',
    digest: GOOD.digest,
    length: 10,
    attestation: { uri: 'attestations/datadog-demo/1.0.0.sigstore.json', digest: GOOD.attestation_digest, length: 20 },
  });
});

test('pointers Datadog\'s downloader would refuse are refused, naming the field', () => {
  const cases: [Record<string, unknown>, string][] = [
    [{ ...GOOD, digest: 'A'.repeat(64) }, 'digest'],
    [{ ...GOOD, length: true }, 'length'],
    [{ ...GOOD, length: -1 }, 'length'],
    [{ ...GOOD, wheel_path: 'wheels/x.whl' }, 'wheel_path'],
    [{ ...GOOD, wheel_path: '//evil.example/x.whl' }, 'wheel_path'],
    [{ ...GOOD, wheel_path: '/wheels/../metadata/x.whl' }, 'wheel_path'],
    [{ ...GOOD, attestation_length: undefined }, 'attestation_length'],
  ];
  for (const [p, field] of cases) {
    assert.throws(() => parseDdPointer(enc(p), 'datadog-demo', 'p.json'), (e: unknown) => e instanceof ProvenantError && e.code === 'E_POINTER_SCHEMA' && e.field === field, field);
  }
  assert.throws(() => parseDdPointer(new TextEncoder().encode('[1]'), 'datadog-demo', 'p.json'), (e: unknown) => e instanceof ProvenantError && e.code === 'E_POINTER_SCHEMA');
  assert.throws(() => parseDdPointer(new TextEncoder().encode('not json'), 'datadog-demo', 'p.json'), (e: unknown) => e instanceof ProvenantError && e.code === 'E_POINTER_SCHEMA');
});

test('the layout is datadog-v2 only for a delegation to wheelsmith alone', () => {
  assert.equal(layoutOfTargets({ delegations: { roles: { wheelsmith: {} } } }), 'datadog-v2');
  assert.equal(layoutOfTargets({ delegations: { roles: { wheelsmith: {}, other: {} } } }), undefined);
  assert.equal(layoutOfTargets({ delegations: { roles: { wheelsmith: {} }, succinctRoles: {} } }), undefined);
  assert.equal(layoutOfTargets({}), undefined);
});
