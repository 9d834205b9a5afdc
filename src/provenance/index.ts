/** Provenance: build context, in-toto statements (SLSA v1 and v0.2), their schemas and facts. */
export { BUILD_TYPE_V1, GITHUB_BUILDER_PREFIX, LOCAL_BUILDER_ID } from './builders.ts';
export { githubContext, isGitHubActions, localContext, resolveBuildContext, type BuildContext, type ResolveContextOptions } from './context.ts';
export { gitCli, type GitAdapter, type GitFacts } from './git.ts';
export { parseStatement, provenanceFacts, type ParsedStatement, type ProvenanceFacts } from './parse.ts';
export * from './schema.ts';
export { gitSourceUri, normalizeRepositoryUrl, parseGitSourceUri } from './source-uri.ts';
export {
  makeStatement,
  PROVENANCE_FORMATS,
  renderStatement,
  statementV02,
  statementV1,
  type ProvenanceFormat,
  type StatementInput,
} from './statement.ts';
export { PROVENANT_VERSION } from './version.ts';
