import { ProvenantError } from '../errors.ts';
import {
  PREDICATE_SLSA_V02,
  PREDICATE_SLSA_V1,
  STATEMENT_TYPE_V01,
  STATEMENT_TYPE_V1,
  StatementV01Schema,
  StatementV1Schema,
  type StatementV01,
  type StatementV1,
} from './schema.ts';
import { parseGitSourceUri } from './source-uri.ts';

export type ParsedStatement = { format: 'slsa-v1'; statement: StatementV1 } | { format: 'slsa-v0.2'; statement: StatementV01 };

function invalid(message: string, file: string | undefined, field?: string): ProvenantError {
  return new ProvenantError('E_STATEMENT_INVALID', message, {
    exitClass: 'verification',
    file,
    field,
    hint: 'the attestation must be an in-toto Statement v1 with SLSA Provenance v1, or Statement v0.1 with SLSA Provenance v0.2 (docs/provenance.md)',
  });
}

/**
 * Parses the bytes of an in-toto statement (the DSSE payload, or the file `build` writes) into
 * the one of the two supported formats it is. Errors name the field at fault.
 */
export function parseStatement(bytes: Uint8Array | string, file?: string): ParsedStatement {
  let raw: unknown;
  try {
    raw = JSON.parse(typeof bytes === 'string' ? bytes : new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (e) {
    throw invalid(`statement is not valid UTF-8 JSON: ${(e as Error).message}`, file);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw invalid('statement is not a JSON object', file);
  const { _type: type, predicateType } = raw as Record<string, unknown>;
  let r;
  if (type === STATEMENT_TYPE_V1 && predicateType === PREDICATE_SLSA_V1) {
    r = StatementV1Schema.safeParse(raw);
    if (r.success) return { format: 'slsa-v1', statement: r.data };
  } else if (type === STATEMENT_TYPE_V01 && predicateType === PREDICATE_SLSA_V02) {
    r = StatementV01Schema.safeParse(raw);
    if (r.success) return { format: 'slsa-v0.2', statement: r.data };
  } else if (type !== STATEMENT_TYPE_V1 && type !== STATEMENT_TYPE_V01) {
    throw invalid(`unsupported statement type ${JSON.stringify(type)}`, file, '_type');
  } else {
    throw invalid(`unsupported predicateType ${JSON.stringify(predicateType)} for statement type ${String(type)}`, file, 'predicateType');
  }
  const issue = r.error.issues[0]!;
  throw invalid(`statement is invalid: ${issue.message}`, file, issue.path.join('.'));
}

/** What an attestation policy and the downloader look at, the same for both formats. */
export interface ProvenanceFacts {
  format: 'slsa-v1' | 'slsa-v0.2';
  subjects: { name: string; sha256: string }[];
  builderId: string;
  buildType: string;
  /** Absent when the builder could not establish it (e.g. a local build outside git). */
  sourceRepository: string | undefined;
  ref: string | undefined;
  commit: string | undefined;
  invocationId: string | undefined;
  /** What the build was asked for: v1 `externalParameters`, v0.2 `invocation.parameters` ({} when not an object). */
  parameters: Record<string, unknown>;
  /** When the builder says the build ran (RFC 3339), where the statement records it. */
  startedOn?: string | undefined;
  finishedOn?: string | undefined;
  /** What the builder chose itself (SOURCE_DATE_EPOCH, sourceTree…): v1 `internalParameters`, v0.2 `invocation.environment` ({} when not an object). */
  internalParameters: Record<string, unknown>;
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v.length > 0 ? v : undefined;
}

function v1Facts(s: StatementV1): Omit<ProvenanceFacts, 'format' | 'subjects'> {
  const def = s.predicate.buildDefinition;
  const ext = def.externalParameters;
  // provenant writes repository/ref as parameters; other builders only in the git+ source URI.
  const source = def.resolvedDependencies?.find((d) => d.digest?.gitCommit !== undefined || d.uri?.startsWith('git+'));
  const fromUri = source?.uri !== undefined ? parseGitSourceUri(source.uri) : undefined;
  return {
    builderId: s.predicate.runDetails.builder.id,
    buildType: def.buildType,
    sourceRepository: str(ext.repository) ?? fromUri?.repository,
    ref: str(ext.ref) ?? fromUri?.ref,
    commit: source?.digest?.gitCommit ?? source?.digest?.sha1,
    invocationId: s.predicate.runDetails.metadata?.invocationId,
    parameters: ext,
    startedOn: s.predicate.runDetails.metadata?.startedOn,
    finishedOn: s.predicate.runDetails.metadata?.finishedOn,
    internalParameters: def.internalParameters ?? {},
  };
}

function v02Facts(s: StatementV01): Omit<ProvenanceFacts, 'format' | 'subjects'> {
  const p = s.predicate;
  const config = p.invocation?.configSource;
  const fromUri = config?.uri !== undefined ? parseGitSourceUri(config.uri) : undefined;
  const asTable = (v: unknown) => (typeof v === 'object' && v !== null && !Array.isArray(v) ? v : {}) as Record<string, unknown>;
  const params = asTable(p.invocation?.parameters);
  return {
    builderId: p.builder.id,
    buildType: p.buildType,
    sourceRepository: fromUri?.repository ?? str(params.repository),
    ref: fromUri?.ref ?? str(params.ref),
    commit: config?.digest?.sha1 ?? config?.digest?.gitCommit,
    invocationId: p.metadata?.buildInvocationId,
    parameters: params,
    startedOn: p.metadata?.buildStartedOn,
    finishedOn: p.metadata?.buildFinishedOn,
    internalParameters: asTable(p.invocation?.environment),
  };
}

export function provenanceFacts(parsed: ParsedStatement): ProvenanceFacts {
  const subjects = parsed.statement.subject.map((s) => ({ name: s.name, sha256: s.digest.sha256 }));
  const facts = parsed.format === 'slsa-v1' ? v1Facts(parsed.statement) : v02Facts(parsed.statement);
  return { format: parsed.format, subjects, ...facts };
}
