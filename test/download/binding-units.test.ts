import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ProvenantError } from '../../src/errors.ts';
import { renderPointer } from '../../src/formats/pointer.ts';
import { sameVersion, wheelBindingProblem } from '../../src/formats/wheel-binding.ts';
import { checkProvenanceParameters } from '../../src/verify/attestation-check.ts';
import { checkPointer } from '../../src/verify/pointer-check.ts';
import type { ProvenanceFacts } from '../../src/provenance/parse.ts';

const PG = { project: 'datadog-postgres', version: '23.4.0' };
const codeOf = (fileName: string, release = PG) => wheelBindingProblem(fileName, release)?.code ?? 'ok';

test('wheel file names that name the release are accepted: escaped or dotted names, PEP 440 equal versions, build tags, compressed tags', () => {
  for (const name of [
    'datadog_postgres-23.4.0-py3-none-any.whl',
    'Datadog_Postgres-23.4.0-py3-none-any.whl',
    'datadog.postgres-23.4.0-py3-none-any.whl',
    'datadog_postgres-23.4-py3-none-any.whl',
    'datadog_postgres-23.4.0.0-py2.py3-none-any.whl',
    'datadog_postgres-v23.4.0-py3-none-any.whl',
    'datadog_postgres-23.4.0-1-py3-none-any.whl',
    'datadog_postgres-23.4.0-2b-cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64.whl',
  ]) {
    assert.equal(codeOf(name), 'ok', name);
  }
  // The pointer's own spelling may differ too: PEP 440 equality, PEP 503 names.
  assert.equal(codeOf('datadog_demo-1.0.0-py3-none-any.whl', { project: 'Datadog_Demo', version: '1.0' }), 'ok');
  assert.equal(codeOf('datadog_demo-1.0rc1-py3-none-any.whl', { project: 'datadog-demo', version: '1.0.0-RC1' }), 'ok');
});

test('E_WHEEL_NAME_INVALID: anything that is not {distribution}-{version}(-{build})?-{python}-{abi}-{platform}.whl', () => {
  for (const name of [
    'datadog_postgres-23.4.0-py3-none-any.zip',
    'datadog_postgres-23.4.0.whl',
    'datadog_postgres-23.4.0-py3-none.whl',
    'datadog_postgres-23.4.0-1-2-py3-none-any.whl',
    'datadog_postgres--23.4.0-py3-none-any.whl',
    'datadog__postgres-23.4.0-py3-none-any.whl',
    '_datadog_postgres-23.4.0-py3-none-any.whl',
    'datadog_postgres-23.4.x-py3-none-any.whl',
    'datadog_postgres-23.4.0-b1-py3-none-any.whl',
    'datadog_postgres-23.4.0-py3-none-any+x.whl',
    'datadog_postgres-23.4.0-py3-none-.whl',
  ]) {
    assert.equal(codeOf(name), 'E_WHEEL_NAME_INVALID', name);
  }
});

test('E_WHEEL_PROJECT_MISMATCH and E_WHEEL_VERSION_MISMATCH: another project, another version, a local version, an unparsable pointer version', () => {
  assert.equal(codeOf('datadog_redisdb-7.2.0-py3-none-any.whl'), 'E_WHEEL_PROJECT_MISMATCH');
  assert.equal(codeOf('datadog_postgres_ext-23.4.0-py3-none-any.whl'), 'E_WHEEL_PROJECT_MISMATCH');
  assert.equal(codeOf('datadog_postgres-23.2.0-py3-none-any.whl'), 'E_WHEEL_VERSION_MISMATCH');
  assert.equal(codeOf('datadog_postgres-23.4.0.post1-py3-none-any.whl'), 'E_WHEEL_VERSION_MISMATCH');
  assert.equal(codeOf('datadog_postgres-23.4.0+local-py3-none-any.whl'), 'E_WHEEL_VERSION_MISMATCH');
  assert.equal(codeOf('datadog_postgres-23.4.0-py3-none-any.whl', { ...PG, version: 'latest' }), 'E_WHEEL_VERSION_MISMATCH');
  const p = wheelBindingProblem('datadog_postgres-23.2.0-py3-none-any.whl', PG)!;
  assert.match(p.message, /version 23\.2\.0, not datadog-postgres 23\.4\.0/);
  assert.equal(sameVersion('1.0', '1.0.0'), true);
  assert.equal(sameVersion('1.0', 'one'), false);
});

test('pointer schema: each binding code is raised by checkPointer, exit class verification, naming pointer.uri', () => {
  const target = { path: 'pointers/datadog-postgres/datadog-postgres-23.4.0.pointer' } as never;
  const pointer = (uri: string) =>
    new TextEncoder().encode(
      renderPointer({ name: PG.project, version: PG.version, uri, digest: 'a'.repeat(64), length: 10, attestation: { uri: 'attestations/a.json', digest: 'b'.repeat(64), length: 5 } }),
    );
  const cases: [string, string][] = [
    ['simple/datadog-postgres/datadog_postgres-23.4.0-py3-none-any.whl', 'ok'],
    ['simple/datadog-redisdb/datadog_redisdb-7.2.0-py3-none-any.whl', 'E_WHEEL_PROJECT_MISMATCH'],
    ['simple/datadog-postgres/datadog_postgres-23.2.0-py3-none-any.whl', 'E_WHEEL_VERSION_MISMATCH'],
    ['simple/datadog-postgres/datadog_postgres-23.4.0.whl', 'E_WHEEL_NAME_INVALID'],
  ];
  for (const [uri, code] of cases) {
    try {
      checkPointer(pointer(uri), target, PG, 'https://packages.example.com/');
      assert.equal('ok', code, uri);
    } catch (e) {
      assert.ok(e instanceof ProvenantError, String(e));
      assert.equal(e.code, code, uri);
      assert.equal(e.exitClass, 'verification');
      assert.equal(e.field, 'pointer.uri');
      assert.match(e.message, /^pointer schema: pointer of datadog-postgres 23\.4\.0: /);
    }
  }
});

function facts(format: ProvenanceFacts['format'], parameters: Record<string, unknown>): ProvenanceFacts {
  return { format, subjects: [], builderId: 'b', buildType: 't', sourceRepository: undefined, ref: undefined, commit: undefined, invocationId: undefined, parameters, internalParameters: {} };
}

test('E_PROVENANCE_PARAMETERS_MISMATCH: project, version or wheel parameters naming another release; absent ones and other keys are not compared', () => {
  const release = { ...PG, wheelFileName: 'datadog_postgres-23.4.0-py3-none-any.whl' };
  const fieldOf = (f: ProvenanceFacts) => {
    try {
      checkProvenanceParameters(f, release, 'bundle');
      return 'ok';
    } catch (e) {
      assert.ok(e instanceof ProvenantError && e.code === 'E_PROVENANCE_PARAMETERS_MISMATCH' && e.exitClass === 'verification', String(e));
      return e.field;
    }
  };
  // provenant's own parameters name none of them: nothing to compare.
  assert.equal(fieldOf(facts('slsa-v1', { integration: 'redisdb', repository: 'https://github.com/o/r', ref: 'refs/tags/redisdb-7.2.0', path: 'redisdb' })), 'ok');
  assert.equal(fieldOf(facts('slsa-v1', { project: 'Datadog.Postgres', version: '23.4', wheel: release.wheelFileName })), 'ok');
  assert.equal(fieldOf(facts('slsa-v1', { project: 'datadog-redisdb' })), 'predicate.buildDefinition.externalParameters.project');
  assert.equal(fieldOf(facts('slsa-v1', { version: '23.2.0' })), 'predicate.buildDefinition.externalParameters.version');
  assert.equal(fieldOf(facts('slsa-v1', { version: 'latest' })), 'predicate.buildDefinition.externalParameters.version');
  assert.equal(fieldOf(facts('slsa-v0.2', { wheel: 'datadog_postgres-23.2.0-py3-none-any.whl' })), 'predicate.invocation.parameters.wheel');
  // A value that is not a string cannot be shown to agree: refused.
  assert.equal(fieldOf(facts('slsa-v0.2', { version: 23.4 })), 'predicate.invocation.parameters.version');
  assert.equal(fieldOf(facts('slsa-v0.2', { project: null })), 'predicate.invocation.parameters.project');
});
