/** Library API: the same use cases the CLI runs, with adapters (storage, signers, fetchers) passed in. */
export * from './errors.ts';
export type { Reporter, StepStatus } from './reporter.ts';
export { silentReporter } from './reporter.ts';

// Build: wheels, provenance, pointers.
export { buildWheel } from './wheel/wheel.ts';
export type { BuiltWheel, BuildOptions } from './wheel/types.ts';
export { buildIntegrations, type BuildRequest, type BuildResult } from './app/build.ts';
export { openWorkspace, selectIntegrations, type Integration, type Workspace } from './app/workspace.ts';
export { parseStatement, provenanceFacts } from './provenance/parse.ts';
export { parsePointer, renderPointer, type Pointer } from './formats/pointer.ts';
export { compareVersions, isPrerelease, newestVersion, normalizeVersion } from './formats/pep440.ts';
export { normalizeProjectName } from './formats/pep503.ts';

// Attestations and policy.
export { signAttestation, signAttestationKeyless } from './attest/sign.ts';
export { verifyAttestation, verifyAttestationBundle, type VerifiedAttestation } from './attest/verify.ts';
export { keylessSigning, type KeylessSigning } from './signers/keyless.ts';
export { publishTrustTargets, type TrustTargets } from './app/trust-targets.ts';
export { signIntegrations, type SignRequest, type SignResult } from './app/sign.ts';
export { defaultPolicy, parsePolicy, renderPolicy, type Policy } from './policy/policy.ts';
export type { Identity } from './policy/identity.ts';

// Repository: TUF, publish, release, index.
export { initRepository, refreshRepository, repoStatus } from './app/repo.ts';
export { proposeRoot, proposeTargets } from './app/ceremony-propose.ts';
export { signProposal } from './app/ceremony-sign.ts';
export { publishProposal } from './app/ceremony-publish.ts';
export { proposalStatuses } from './app/ceremony-status.ts';
export { publishReleases, type Release, type PublishResult } from './app/publish.ts';
export { releaseIntegrations, type ReleaseRequest, type ReleaseSummary } from './app/release.ts';
export { updateIndex } from './simple-index/update.ts';
export { rebuildIndex } from './simple-index/rebuild.ts';
export { startServer } from './app/serve.ts';
export { keyStoreSignerSource, fixedSignerSource, type SignerSource } from './tuf/signer-source.ts';
export { loadSigner } from './signers/key-store.ts';

// Status pages: the repository for people (docs/status-page.md).
export { statusModel, updateStatusPages } from './status-page/pages.ts';
export { renderStatusPages } from './status-page/html.ts';
export { renderStatusMarkdown } from './status-page/markdown.ts';
export type { StatusModel } from './status-page/model.ts';

// Download.
export { downloadWheel, type DownloadRequest, type DownloadResult } from './app/download.ts';

// Adapters.
export type { Storage, ObjectProps, StoredObject } from './storage/storage.ts';
export { openStorage } from './storage/open.ts';
export { FsStorage } from './storage/fs.ts';
export { S3Storage } from './storage/s3.ts';
export { RecordingStorage } from './storage/recording.ts';
export type { Signer, PublicKeyInfo } from './signers/signer.ts';
export { openSigner, type OpenSignerOptions } from './signers/open-signer.ts';
export { parseKeyRef, type KeyRef } from './signers/key-ref.ts';
