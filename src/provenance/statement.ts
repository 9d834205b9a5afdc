import { BUILD_TYPE_V1 } from './builders.ts';
import type { BuildContext } from './context.ts';
import {
  PREDICATE_SLSA_V02,
  PREDICATE_SLSA_V1,
  STATEMENT_TYPE_V01,
  STATEMENT_TYPE_V1,
  StatementV01Schema,
  StatementV1Schema,
  type ResourceDescriptor,
  type StatementV01,
  type StatementV1,
} from './schema.ts';
import { gitSourceUri } from './source-uri.ts';
import { PROVENANT_VERSION } from './version.ts';

/** `slsa-v1` is the default; `slsa-v0.2` is the reference guide's format, for compatibility. */
export const PROVENANCE_FORMATS = ['slsa-v1', 'slsa-v0.2'] as const;
export type ProvenanceFormat = (typeof PROVENANCE_FORMATS)[number];

export interface StatementInput {
  /** The wheel: its file name and sha256 hex. */
  subject: { name: string; sha256: string };
  /** The integration as named on the command line's terms: its directory name, e.g. `postgres`. */
  integration: string;
  context: BuildContext;
  sourceDateEpoch: number;
  startedOn: Date;
  finishedOn: Date;
}

/** RFC 3339 at second precision, as the SLSA examples write it. */
function rfc3339(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** Parameters the build was asked for: the same keys in both formats. */
function externalParameters(i: StatementInput): Record<string, unknown> {
  const c = i.context;
  return {
    integration: i.integration,
    ...(c.repository !== undefined && { repository: c.repository }),
    ...(c.ref !== undefined && { ref: c.ref }),
    ...(c.path !== undefined && { path: c.path }),
  };
}

/** What the builder chose itself; `notes` records any source fact it could not establish. */
function internalParameters(i: StatementInput): Record<string, unknown> {
  const c = i.context;
  return {
    SOURCE_DATE_EPOCH: i.sourceDateEpoch,
    provenantVersion: PROVENANT_VERSION,
    environment: c.environment,
    sourceTree: c.sourceTree,
    ...(c.notes.length > 0 && { notes: c.notes }),
  };
}

function sourceDependency(c: BuildContext): ResourceDescriptor[] {
  if (c.commit === undefined) return [];
  const digest = { gitCommit: c.commit };
  // Without a remote there is no honest URI for the source; the commit alone still pins it.
  return [c.repository !== undefined ? { uri: gitSourceUri(c.repository, c.ref), digest } : { name: 'source', digest }];
}

export function statementV1(i: StatementInput): StatementV1 {
  const c = i.context;
  return {
    _type: STATEMENT_TYPE_V1,
    subject: [{ name: i.subject.name, digest: { sha256: i.subject.sha256 } }],
    predicateType: PREDICATE_SLSA_V1,
    predicate: {
      buildDefinition: {
        buildType: BUILD_TYPE_V1,
        externalParameters: externalParameters(i),
        internalParameters: internalParameters(i),
        resolvedDependencies: sourceDependency(c),
      },
      runDetails: {
        builder: { id: c.builderId, version: { provenant: PROVENANT_VERSION } },
        metadata: { invocationId: c.invocationId, startedOn: rfc3339(i.startedOn), finishedOn: rfc3339(i.finishedOn) },
      },
    },
  };
}

/** SLSA v0.2 names a git commit digest `sha1` (as the GitHub generators did) when it is one. */
function commitDigest(commit: string): Record<string, string> {
  return /^[0-9a-f]{40}$/.test(commit) ? { sha1: commit } : { gitCommit: commit };
}

export function statementV02(i: StatementInput): StatementV01 {
  const c = i.context;
  const uri = c.repository !== undefined ? gitSourceUri(c.repository, c.ref) : undefined;
  const digest = c.commit !== undefined ? commitDigest(c.commit) : undefined;
  return {
    _type: STATEMENT_TYPE_V01,
    subject: [{ name: i.subject.name, digest: { sha256: i.subject.sha256 } }],
    predicateType: PREDICATE_SLSA_V02,
    predicate: {
      builder: { id: c.builderId },
      buildType: BUILD_TYPE_V1,
      invocation: {
        configSource: {
          ...(uri !== undefined && { uri }),
          ...(digest !== undefined && { digest }),
          entryPoint: c.workflowPath ?? `provenant build ${i.integration}`,
        },
        parameters: externalParameters(i),
        environment: internalParameters(i),
      },
      metadata: {
        buildInvocationId: c.invocationId,
        buildStartedOn: rfc3339(i.startedOn),
        buildFinishedOn: rfc3339(i.finishedOn),
        completeness: { parameters: true, environment: false, materials: false },
        // Rebuilding is only claimed to give the same bytes when the source is pinned and was clean.
        reproducible: c.commit !== undefined && c.sourceTree === 'clean',
      },
      materials: uri !== undefined || digest !== undefined ? [{ ...(uri !== undefined && { uri }), ...(digest !== undefined && { digest }) }] : [],
    },
  };
}

export function makeStatement(format: ProvenanceFormat, i: StatementInput): StatementV1 | StatementV01 {
  // Validate what we write with the same schema readers use: a bug here must not ship a statement.
  if (format === 'slsa-v1') {
    const s = statementV1(i);
    StatementV1Schema.parse(s);
    return s;
  }
  const s = statementV02(i);
  StatementV01Schema.parse(s);
  return s;
}

/** The statement file's bytes: pretty JSON with a trailing newline (what `sign` wraps in DSSE). */
export function renderStatement(statement: StatementV1 | StatementV01): Uint8Array {
  return new TextEncoder().encode(`${JSON.stringify(statement, null, 2)}\n`);
}
