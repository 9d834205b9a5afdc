import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BUILD_TYPE_V1, LOCAL_BUILDER_ID } from '../../src/provenance/builders.ts';
import { githubContext, localContext, type BuildContext } from '../../src/provenance/context.ts';
import { parseStatement, provenanceFacts } from '../../src/provenance/parse.ts';
import { StatementV01Schema, StatementV1Schema } from '../../src/provenance/schema.ts';
import { makeStatement, renderStatement, type StatementInput } from '../../src/provenance/statement.ts';
import { PROVENANT_VERSION } from '../../src/provenance/version.ts';
import { isProvenantError } from '../../src/errors.ts';

const SHA = 'a'.repeat(64);
const COMMIT = '0123456789abcdef0123456789abcdef01234567';
const GITHUB_ENV = {
  GITHUB_ACTIONS: 'true',
  GITHUB_SERVER_URL: 'https://github.com',
  GITHUB_REPOSITORY: 'DataDog/integrations-core',
  GITHUB_SHA: COMMIT,
  GITHUB_REF: 'refs/tags/postgres-23.2.0',
  GITHUB_WORKFLOW_REF: 'DataDog/integrations-core/.github/workflows/release.yml@refs/tags/postgres-23.2.0',
  GITHUB_RUN_ID: '9876543210',
  GITHUB_RUN_ATTEMPT: '2',
};

function input(context: BuildContext): StatementInput {
  return {
    subject: { name: 'datadog_postgres-23.2.0-py3-none-any.whl', sha256: SHA },
    integration: 'postgres',
    context,
    sourceDateEpoch: 1580601600,
    startedOn: new Date('2024-05-01T10:00:00.250Z'),
    finishedOn: new Date('2024-05-01T10:00:01.750Z'),
  };
}

test('v1 statement from a GitHub Actions context has exactly the expected fields and validates', () => {
  const s = makeStatement('slsa-v1', input(githubContext(GITHUB_ENV)));
  assert.ok(StatementV1Schema.safeParse(s).success);
  assert.deepEqual(s, {
    _type: 'https://in-toto.io/Statement/v1',
    subject: [{ name: 'datadog_postgres-23.2.0-py3-none-any.whl', digest: { sha256: SHA } }],
    predicateType: 'https://slsa.dev/provenance/v1',
    predicate: {
      buildDefinition: {
        buildType: BUILD_TYPE_V1,
        externalParameters: {
          integration: 'postgres',
          repository: 'https://github.com/DataDog/integrations-core',
          ref: 'refs/tags/postgres-23.2.0',
        },
        internalParameters: {
          SOURCE_DATE_EPOCH: 1580601600,
          provenantVersion: PROVENANT_VERSION,
          environment: 'github-actions',
          sourceTree: 'unknown',
        },
        resolvedDependencies: [
          { uri: 'git+https://github.com/DataDog/integrations-core@refs/tags/postgres-23.2.0', digest: { gitCommit: COMMIT } },
        ],
      },
      runDetails: {
        builder: {
          id: 'https://github.com/DataDog/integrations-core/.github/workflows/release.yml@refs/tags/postgres-23.2.0',
          version: { provenant: PROVENANT_VERSION },
        },
        metadata: {
          invocationId: 'https://github.com/DataDog/integrations-core/actions/runs/9876543210/attempts/2',
          startedOn: '2024-05-01T10:00:00Z',
          finishedOn: '2024-05-01T10:00:01Z',
        },
      },
    },
  });
});

test('v0.2 statement (reference guide format) from a GitHub Actions context', () => {
  const s = makeStatement('slsa-v0.2', input(githubContext(GITHUB_ENV)));
  assert.ok(StatementV01Schema.safeParse(s).success);
  assert.equal(s._type, 'https://in-toto.io/Statement/v0.1');
  assert.equal(s.predicateType, 'https://slsa.dev/provenance/v0.2');
  assert.ok(!('buildDefinition' in s.predicate));
  const p = s.predicate as Record<string, unknown>;
  assert.deepEqual(p.builder, { id: 'https://github.com/DataDog/integrations-core/.github/workflows/release.yml@refs/tags/postgres-23.2.0' });
  assert.equal(p.buildType, BUILD_TYPE_V1);
  assert.deepEqual(p.invocation, {
    configSource: {
      uri: 'git+https://github.com/DataDog/integrations-core@refs/tags/postgres-23.2.0',
      digest: { sha1: COMMIT },
      entryPoint: '.github/workflows/release.yml',
    },
    parameters: { integration: 'postgres', repository: 'https://github.com/DataDog/integrations-core', ref: 'refs/tags/postgres-23.2.0' },
    environment: { SOURCE_DATE_EPOCH: 1580601600, provenantVersion: PROVENANT_VERSION, environment: 'github-actions', sourceTree: 'unknown' },
  });
  assert.deepEqual(p.metadata, {
    buildInvocationId: 'https://github.com/DataDog/integrations-core/actions/runs/9876543210/attempts/2',
    buildStartedOn: '2024-05-01T10:00:00Z',
    buildFinishedOn: '2024-05-01T10:00:01Z',
    completeness: { parameters: true, environment: false, materials: false },
    reproducible: false,
  });
  assert.deepEqual(p.materials, [{ uri: 'git+https://github.com/DataDog/integrations-core@refs/tags/postgres-23.2.0', digest: { sha1: COMMIT } }]);
});

test('a local build outside git says so instead of inventing a source', () => {
  const ctx = localContext({ available: false, notes: ['not built from a git checkout: source repository, ref and commit unknown'] }, 'urn:uuid:1');
  for (const format of ['slsa-v1', 'slsa-v0.2'] as const) {
    const s = makeStatement(format, input(ctx));
    const facts = provenanceFacts(parseStatement(renderStatement(s)));
    assert.equal(facts.builderId, LOCAL_BUILDER_ID);
    assert.equal(facts.sourceRepository, undefined);
    assert.equal(facts.ref, undefined);
    assert.equal(facts.commit, undefined);
    assert.match(JSON.stringify(s), /not built from a git checkout/);
  }
  const v1 = makeStatement('slsa-v1', input(ctx)) as ReturnType<typeof makeStatement> & { predicate: { buildDefinition: { resolvedDependencies: unknown[] } } };
  assert.deepEqual(v1.predicate.buildDefinition.resolvedDependencies, []);
});

test('a commit without a remote is pinned by digest alone', () => {
  const ctx = localContext({ available: true, commit: COMMIT, ref: 'refs/heads/main', path: 'postgres', modified: false, notes: ['no `origin` remote: source repository unknown'] }, 'urn:uuid:2');
  const s = makeStatement('slsa-v1', input(ctx));
  assert.ok(StatementV1Schema.safeParse(s).success);
  const facts = provenanceFacts(parseStatement(renderStatement(s)));
  assert.equal(facts.commit, COMMIT);
  assert.equal(facts.ref, 'refs/heads/main');
  assert.equal(facts.sourceRepository, undefined);
});

test('provenanceFacts reads the same facts from both formats', () => {
  const ctx = githubContext(GITHUB_ENV);
  const v1 = provenanceFacts(parseStatement(renderStatement(makeStatement('slsa-v1', input(ctx)))));
  const v02 = provenanceFacts(parseStatement(renderStatement(makeStatement('slsa-v0.2', input(ctx)))));
  assert.equal(v1.format, 'slsa-v1');
  assert.equal(v02.format, 'slsa-v0.2');
  const { format: _a, ...a } = v1;
  const { format: _b, ...b } = v02;
  assert.deepEqual(a, b);
  assert.deepEqual(a, {
    subjects: [{ name: 'datadog_postgres-23.2.0-py3-none-any.whl', sha256: SHA }],
    builderId: 'https://github.com/DataDog/integrations-core/.github/workflows/release.yml@refs/tags/postgres-23.2.0',
    buildType: BUILD_TYPE_V1,
    sourceRepository: 'https://github.com/DataDog/integrations-core',
    ref: 'refs/tags/postgres-23.2.0',
    commit: COMMIT,
    invocationId: 'https://github.com/DataDog/integrations-core/actions/runs/9876543210/attempts/2',
    parameters: { integration: 'postgres', repository: 'https://github.com/DataDog/integrations-core', ref: 'refs/tags/postgres-23.2.0' },
    internalParameters: { SOURCE_DATE_EPOCH: 1580601600, provenantVersion: PROVENANT_VERSION, environment: 'github-actions', sourceTree: 'unknown' },
    startedOn: '2024-05-01T10:00:00Z',
    finishedOn: '2024-05-01T10:00:01Z',
  });
});

test('provenanceFacts falls back to the git+ source URI (statements from other SLSA builders)', () => {
  const foreign = {
    _type: 'https://in-toto.io/Statement/v1',
    subject: [{ name: 'x.whl', digest: { sha256: SHA } }],
    predicateType: 'https://slsa.dev/provenance/v1',
    predicate: {
      buildDefinition: {
        buildType: 'https://actions.github.io/buildtypes/workflow/v1',
        externalParameters: { workflow: { ref: 'refs/heads/main', repository: 'https://github.com/o/r', path: '.github/workflows/b.yml' } },
        resolvedDependencies: [{ uri: 'git+https://github.com/o/r@refs/heads/main', digest: { gitCommit: COMMIT } }],
      },
      runDetails: { builder: { id: 'https://github.com/o/r/.github/workflows/b.yml@refs/heads/main' } },
    },
  };
  const f = provenanceFacts(parseStatement(JSON.stringify(foreign)));
  assert.equal(f.sourceRepository, 'https://github.com/o/r');
  assert.equal(f.ref, 'refs/heads/main');
  assert.equal(f.commit, COMMIT);
  assert.equal(f.invocationId, undefined);
});

test('parseStatement rejects bad statements with a stable code and the field at fault', () => {
  const good = makeStatement('slsa-v1', input(githubContext(GITHUB_ENV)));
  const cases: [unknown, string | undefined, RegExp][] = [
    ['not json', undefined, /not valid UTF-8 JSON/],
    [[], undefined, /not a JSON object/],
    [{ ...good, _type: 'https://in-toto.io/Statement/v9' }, '_type', /unsupported statement type/],
    [{ ...good, predicateType: 'https://slsa.dev/provenance/v0.2' }, 'predicateType', /unsupported predicateType/],
    [{ ...good, subject: [] }, 'subject', /./],
    [{ ...good, subject: [{ name: 'w.whl', digest: { sha512: 'ab' } }] }, 'subject.0.digest.sha256', /./],
    [{ ...good, subject: [{ name: 'w.whl', digest: { sha256: 'ABC' } }] }, 'subject.0.digest.sha256', /sha256/],
    [{ ...good, predicate: { ...good.predicate, runDetails: { builder: {} } } }, 'predicate.runDetails.builder.id', /./],
  ];
  for (const [value, field, message] of cases) {
    assert.throws(
      () => parseStatement(typeof value === 'string' ? value : JSON.stringify(value), 'att.json'),
      (e: unknown) => isProvenantError(e) && e.code === 'E_STATEMENT_INVALID' && e.exitCode === 5 && e.file === 'att.json' && e.field === field && message.test(e.message),
      JSON.stringify(value).slice(0, 80),
    );
  }
  assert.throws(() => parseStatement(new Uint8Array([0xff, 0xfe])), /UTF-8/);
});
