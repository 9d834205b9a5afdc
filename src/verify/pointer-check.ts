import type { TargetFile } from '@tufjs/models';
import { normalizeProjectName } from '../formats/pep503.ts';
import { parseDdPointer } from '../formats/datadog-v2.ts';
import { parsePointer, type Pointer } from '../formats/pointer.ts';
import { wheelBindingProblem } from '../formats/wheel-binding.ts';
import { checkFailed } from './checks.ts';

/** A pointer whose URIs are resolved to absolute URLs inside the repository. */
export interface CheckedPointer {
  pointer: Pointer;
  wheelUrl: string;
  /** The wheel's file name (last URI segment, decoded): what the attestation's subject must name. */
  wheelFileName: string;
  attestationUrl: string;
}

/**
 * Pointer schema: the YAML schema (or Datadog's JSON schema, datadog-v2.ts) (digest 64 hex, length a non-negative integer), the name and
 * version the TUF target was published under, both URIs resolving inside the repository, and the
 * wheel's file name (PEP 427) naming that project and version. The last is what keeps a holder of
 * the online key alone, who can sign any pointer, from moving a genuine wheel and its genuine
 * attestation under another release: the attestation's subject names the file, the file the release.
 */
export function checkPointer(
  bytes: Uint8Array,
  target: TargetFile,
  expected: { project: string; version: string },
  repositoryUrl: string,
  layout?: 'datadog-v2',
): CheckedPointer {
  const file = target.path;
  let pointer: Pointer;
  try {
    // The datadog-v2 pointer (JSON) is read into the same shape: every check below is shared.
    pointer = layout === 'datadog-v2' ? parseDdPointer(bytes, expected.project, file) : parsePointer(new TextDecoder().decode(bytes), file);
  } catch (e) {
    const err = e as { message: string; field?: string };
    throw checkFailed('pointer schema', 'E_POINTER_SCHEMA', err.message, { file, field: err.field, hint: 'the signed pointer is malformed; the publisher must republish it' });
  }
  if (normalizeProjectName(pointer.name) !== expected.project || pointer.version !== expected.version) {
    throw checkFailed('pointer schema', 'E_POINTER_MISMATCH', `pointer names ${pointer.name} ${pointer.version}, but was published as ${expected.project} ${expected.version}`, {
      file,
      field: 'pointer.name',
      hint: 'a pointer may only describe the release it is published for',
    });
  }
  const wheelUrl = resolveInside(pointer.uri, repositoryUrl, file, 'pointer.uri');
  const attestationUrl = resolveInside(pointer.attestation.uri, repositoryUrl, file, 'pointer.attestation.uri');
  const wheelFileName = decodeURIComponent(new URL(wheelUrl).pathname.split('/').at(-1) ?? '');
  if (!/^[A-Za-z0-9_][A-Za-z0-9_.+!-]*\.whl$/.test(wheelFileName)) {
    throw checkFailed('pointer schema', 'E_POINTER_URI', `pointer.uri does not name a wheel file: ${JSON.stringify(wheelFileName)}`, { file, field: 'pointer.uri' });
  }
  const problem = wheelBindingProblem(wheelFileName, expected);
  if (problem) {
    throw checkFailed('pointer schema', problem.code, `pointer of ${expected.project} ${expected.version}: ${problem.message}`, {
      file,
      field: 'pointer.uri',
      hint: 'do not install it: a wheel belongs to exactly one release, and this pointer was signed by someone holding the online key (or by a broken publisher); tell the repository owners',
    });
  }
  return { pointer, wheelUrl, wheelFileName, attestationUrl };
}

/**
 * Resolves a pointer URI against the repository root and refuses anything outside it: other
 * hosts, other schemes, `..` segments (raw or percent-encoded), encoded slashes or backslashes.
 */
export function resolveInside(uri: string, repositoryUrl: string, file: string, field: string): string {
  const bad = (why: string) =>
    checkFailed('pointer schema', 'E_POINTER_URI', `${field} ${JSON.stringify(uri)} ${why}`, {
      file,
      field,
      hint: 'pointer URIs must be repository keys (relative) or absolute URLs under the repository root',
    });
  if (uri.includes('\\') || [...uri].some((c) => c.charCodeAt(0) < 0x20) || /%(2f|5c|2e|00)/i.test(uri)) throw bad('has an encoded or control character');
  if (uri.split(/[/?#]/).some((seg) => seg === '..' || seg === '.')) throw bad('has a . or .. segment');
  if (uri.startsWith('//')) throw bad('names another host');
  let resolved: URL;
  try {
    // A leading `/` would resolve to the host root, not the repository root.
    resolved = new URL(uri.replace(/^\/+/, ''), repositoryUrl);
  } catch {
    throw bad('is not a valid URI');
  }
  if (resolved.search || resolved.hash) throw bad('has a query or fragment');
  // The file name is read back from the path with decodeURIComponent: a stray `%` or escaped bytes that are not UTF-8 would throw there.
  try {
    decodeURIComponent(resolved.pathname);
  } catch {
    throw bad('has a malformed percent-escape');
  }
  if (!resolved.href.startsWith(repositoryUrl)) throw bad(`resolves outside the repository ${repositoryUrl}`);
  return resolved.href;
}
