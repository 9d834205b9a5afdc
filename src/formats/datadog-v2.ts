import path from 'node:path';
import { z } from 'zod';
import { ProvenantError } from '../errors.ts';
import { isPrerelease, parseVersion } from './pep440.ts';
import type { Pointer } from './pointer.ts';

/**
 * The `datadog-v2` repository layout (docs/datadog-v2.md): what Datadog's own downloader
 * (`datadog_checks_downloader`, its v2 path) reads. Facts followed, from that downloader:
 * - metadata under `<repository>/metadata/`, TUF targets under `<repository>/targets/`, stored
 *   hash-prefixed (consistent snapshots: `<dir>/<sha256>.<file>`);
 * - the pointer of a release is the TUF target `wheelsmith/v1/<project>/<version>.json`, and
 *   `wheelsmith/v1/<project>/latest.json` is the pointer of the newest final release;
 * - a pointer is a JSON object whose `digest` (64 lowercase hex), `length` (integer ≥ 0) and
 *   `wheel_path` (absolute, normalised path under the repository) the downloader reads.
 * Pure: no I/O.
 */
export const DDV2_LAYOUT = 'datadog-v2';
/** The delegated targets role that signs every pointer target. */
export const DDV2_ROLE = 'wheelsmith';
export const DDV2_POINTER_PREFIX = `${DDV2_ROLE}/v1`;
/** What targets delegates to `wheelsmith`: exactly one pointer file per project directory, nothing else. */
export const DDV2_DELEGATED_PATHS = [`${DDV2_POINTER_PREFIX}/*/*.json`];
/** Where TUF target files are stored (the downloader's `target_base_url`). */
export const DDV2_TARGETS_DIR = 'targets';
export const DDV2_LATEST = 'latest';

/**
 * The layout signed top-level targets metadata describes: `datadog-v2` when it delegates to
 * exactly one role, `wheelsmith`, and to no hashed bins; otherwise undefined (the default layout).
 */
export function layoutOfTargets(targets: { delegations?: { roles?: Record<string, unknown> | undefined; succinctRoles?: unknown } | undefined }): 'datadog-v2' | undefined {
  const d = targets.delegations;
  const roles = Object.keys(d?.roles ?? {});
  return !d?.succinctRoles && roles.length === 1 && roles[0] === DDV2_ROLE ? 'datadog-v2' : undefined;
}

/** What `latest.json` may name: a final release (the downloader's "latest stable"; no pre, dev or local versions). */
export function isLatestCandidate(version: string): boolean {
  const v = parseVersion(version);
  return v !== undefined && !isPrerelease(v) && !version.includes('+');
}

export function ddPointerTargetPath(project: string, version: string): string {
  return `${DDV2_POINTER_PREFIX}/${project}/${version}.json`;
}

export function ddLatestTargetPath(project: string): string {
  return ddPointerTargetPath(project, DDV2_LATEST);
}

/** The project's pointer directory, `wheelsmith/v1/<project>/`. */
export function ddProjectPrefix(project: string): string {
  return `${DDV2_POINTER_PREFIX}/${project}/`;
}

export function ddWheelKey(project: string, wheelFile: string): string {
  return `wheels/${project}/${wheelFile}`;
}

export function ddAttestationKey(project: string, version: string): string {
  return `attestations/${project}/${version}.sigstore.json`;
}

const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/, 'must be 64 lowercase hex characters (sha256)');
const length = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);
/** As the downloader requires: starts with one `/`, and path normalisation leaves it unchanged. */
const repoPath = z
  .string()
  .refine((p) => p.startsWith('/') && !p.startsWith('//') && path.posix.normalize(p) === p, 'must be an absolute, normalised path under the repository (/wheels/…)');

/**
 * Datadog's pointer schema: `digest`, `length`, `wheel_path` (read by Datadog's downloader),
 * `version` and `attestation_path` (its documented fields), plus `attestation_digest` and
 * `attestation_length`, provenant's, so that the attestation is pinned like the wheel.
 */
export const DdPointerSchema = z
  .object({
    digest: sha256Hex,
    length,
    version: z.string().min(1),
    wheel_path: repoPath,
    attestation_path: repoPath,
    attestation_digest: sha256Hex,
    attestation_length: length,
  })
  .loose();

export type DdPointer = z.infer<typeof DdPointerSchema>;

/** Canonical bytes: fixed key order, two-space indent, final newline (the same release always gives the same bytes). */
export function renderDdPointer(p: DdPointer): Uint8Array {
  const ordered = {
    digest: p.digest,
    length: p.length,
    version: p.version,
    wheel_path: p.wheel_path,
    attestation_path: p.attestation_path,
    attestation_digest: p.attestation_digest,
    attestation_length: p.attestation_length,
  };
  return new TextEncoder().encode(`${JSON.stringify(DdPointerSchema.parse(ordered), null, 2)}\n`);
}

/** The Datadog pointer of a release, from the provenant pointer that pins the same wheel and attestation. */
export function ddPointerOf(project: string, pointer: Pointer, wheelFile: string): DdPointer {
  return {
    digest: pointer.digest,
    length: pointer.length,
    version: pointer.version,
    wheel_path: `/${ddWheelKey(project, wheelFile)}`,
    attestation_path: `/${ddAttestationKey(project, pointer.version)}`,
    attestation_digest: pointer.attestation.digest,
    attestation_length: pointer.attestation.length,
  };
}

/** Real pointers are a few hundred bytes; anything far larger is refused before parsing. */
const MAX_DD_POINTER_BYTES = 16 * 1024;

/**
 * Parses a Datadog pointer and returns it in provenant's pointer shape (URIs relative to the
 * repository root), so the downloader's later checks are the same code for both layouts.
 * Errors are E_POINTER_SCHEMA naming the field.
 */
export function parseDdPointer(bytes: Uint8Array, project: string, file: string): Pointer {
  const fail = (message: string, field?: string) =>
    new ProvenantError('E_POINTER_SCHEMA', message, {
      exitClass: 'verification',
      file,
      ...(field ? { field } : {}),
      hint: 'the signed pointer is malformed; do not install it, tell the repository owners',
    });
  if (bytes.byteLength > MAX_DD_POINTER_BYTES) throw fail(`pointer is ${bytes.byteLength} bytes, over the ${MAX_DD_POINTER_BYTES} a pointer may have`);
  let raw: unknown;
  try {
    raw = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (e) {
    throw fail(`pointer is not JSON: ${(e as Error).message}`);
  }
  const r = DdPointerSchema.safeParse(raw);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    throw fail(`pointer is invalid: ${issue.message}`, issue.path.join('.'));
  }
  const p = r.data;
  return {
    name: project,
    version: p.version,
    uri: p.wheel_path.slice(1),
    digest: p.digest,
    length: p.length,
    attestation: { uri: p.attestation_path.slice(1), digest: p.attestation_digest, length: p.attestation_length },
  };
}
