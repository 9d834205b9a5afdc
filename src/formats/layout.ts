/**
 * Where each object lives in a published repository (ARCHITECTURE.md, "Published repository
 * layout"). Keys are relative to the repository root; TUF target paths are relative to it too.
 */
export const METADATA_DIR = 'metadata';
export const SIMPLE_DIR = 'simple';
export const POLICY_TARGET = 'policy/attestation-policy.json';
/** The Sigstore trusted root (Fulcio CAs, Rekor keys, CT logs, TSAs) keyless attestations are checked against. */
export const SIGSTORE_TRUSTED_ROOT_TARGET = 'policy/sigstore-trusted-root.json';

export function wheelKey(project: string, wheelFile: string): string {
  return `${SIMPLE_DIR}/${project}/${wheelFile}`;
}

export function pointerTargetPath(project: string, version: string): string {
  return `pointers/${project}/${project}-${version}.pointer`;
}

export function attestationKey(project: string, attestationFile: string): string {
  return `attestations/${project}/${attestationFile}`;
}

export function pointerFileName(project: string, version: string): string {
  return `${project}-${version}.pointer`;
}

/** The unsigned in-toto statement `build` writes. */
export function statementFileName(project: string, version: string): string {
  return `${project}-${version}-attestation.json`;
}

/** The Sigstore bundle (DSSE-signed statement) `sign` writes; this is what the pointer pins. */
export function bundleFileName(project: string, version: string): string {
  return `${project}-${version}-attestation.sigstore.json`;
}

/** Consistent-snapshot name of a target: `<dir>/<sha256>.<file>` (TUF spec §5.5.2). */
export function consistentTargetPath(targetPath: string, sha256Hex: string): string {
  const slash = targetPath.lastIndexOf('/');
  return `${targetPath.slice(0, slash + 1)}${sha256Hex}.${targetPath.slice(slash + 1)}`;
}

/**
 * Storage key of a TUF target's file: its consistent-snapshot name, under `targets/` in the
 * datadog-v2 layout (whose clients fetch targets from `<repository>/targets/`).
 */
export function targetObjectKey(targetPath: string, sha256Hex: string, layout: 'datadog-v2' | undefined): string {
  const key = consistentTargetPath(targetPath, sha256Hex);
  return layout === 'datadog-v2' ? `targets/${key}` : key;
}

/** A release approval (docs/approvals.md): a TUF target in the bins, one per approver key. */
export function approvalTargetPath(project: string, version: string, keyId: string): string {
  return `approvals/${project}/${version}/${keyId}.sigstore.json`;
}

/** A rebuilder's verification summary attestation (docs/rebuild.md): a TUF target in the bins, one per rebuilder key. */
export function rebuildTargetPath(project: string, version: string, keyId: string): string {
  return `rebuilds/${project}/${version}/${keyId}.sigstore.json`;
}
