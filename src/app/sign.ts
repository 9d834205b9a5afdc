import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { parseAttestationBundle } from '../attest/bundle.ts';
import { keylessSelfCheck } from '../attest/keyless-verify.ts';
import { signAttestation, signAttestationKeyless } from '../attest/sign.ts';
import { verifyAttestationBundle } from '../attest/verify.ts';
import { ProvenantError, isProvenantError } from '../errors.ts';
import { attestationKey, bundleFileName, pointerFileName, statementFileName, wheelKey } from '../formats/layout.ts';
import { compareVersions } from '../formats/pep440.ts';
import { normalizeProjectName } from '../formats/pep503.ts';
import { parsePointer, renderPointer, type Pointer } from '../formats/pointer.ts';
import { defaultPolicy } from '../policy/policy.ts';
import { parseStatement, provenanceFacts } from '../provenance/parse.ts';
import type { KeylessSigning } from '../signers/keyless.ts';
import type { Signer } from '../signers/signer.ts';
import { sha256Hex } from '../util/hash.ts';
import { artifactUri } from './build.ts';
import { replaceFilesTogether } from './dist-files.ts';
import { silentReporter, type Reporter } from '../reporter.ts';
import type { Integration } from './workspace.ts';

export interface SignRequest {
  /** The attestation key(s); several when the policy threshold is above 1. Unused when `keyless` is given. */
  signers: readonly Signer[];
  /** Sign keyless (Fulcio certificate, Rekor entry) instead of with keys. */
  keyless?: KeylessSigning | undefined;
  /** Which built version to sign when dist/ holds several; default the newest (PEP 440). */
  version?: string | undefined;
  reporter?: Reporter;
}

export interface SignResult {
  integration: string;
  project: string;
  version: string;
  dist: string;
  /** `unchanged` when dist/ already held a bundle for this exact statement, by these keys, pinned by the pointer. */
  status: 'signed' | 'unchanged';
  /** Policy key ids that signed; empty for a keyless signature. */
  keyIds: string[];
  /** A keyless signature: the certificate's identity and the Rekor log index(es). */
  keyless?: { issuer: string | undefined; subject: string | undefined; logIndexes: string[] };
  bundle: { path: string; fileName: string; sha256: string; size: number; uri: string };
  pointer: { path: string; fileName: string; sha256: string; size: number };
}

const POINTER_SUFFIX = '.pointer';

function notBuilt(dist: string, what: string, file?: string): ProvenantError {
  return new ProvenantError('E_NOT_BUILT', `${what} in ${dist}`, {
    exitClass: 'not-found',
    file,
    hint: 'run `provenant build <integration>` first; sign signs what build wrote',
  });
}

async function readIfExists(file: string): Promise<Uint8Array | undefined> {
  try {
    return await readFile(file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

/** The pointer `build` wrote for `project` (normalized), at `version` or the newest one present. */
async function findPointer(dist: string, project: string | undefined, version: string | undefined): Promise<string> {
  let names: string[];
  try {
    names = (await readdir(dist)).filter((n) => n.endsWith(POINTER_SUFFIX) && !n.startsWith('.'));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw notBuilt(dist, 'no dist/ directory');
    throw e;
  }
  const candidates = names
    .map((n) => {
      const stem = n.slice(0, -POINTER_SUFFIX.length);
      if (project !== undefined) return stem.startsWith(`${project}-`) ? { file: n, version: stem.slice(project.length + 1) } : undefined;
      // Unknown project (pyproject unreadable): versions start at the first "-<digit>".
      const m = /^(.+?)-(\d.*)$/.exec(stem);
      return m ? { file: n, version: m[2]! } : undefined;
    })
    .filter((c): c is { file: string; version: string } => c !== undefined);
  if (version !== undefined) {
    const hit = candidates.find((c) => c.version === version);
    if (!hit) throw notBuilt(dist, `no pointer for version ${version}`);
    return path.join(dist, hit.file);
  }
  if (candidates.length === 0) throw notBuilt(dist, 'no pointer file');
  candidates.sort((a, b) => {
    try {
      return compareVersions(a.version, b.version);
    } catch {
      return a.version < b.version ? -1 : a.version > b.version ? 1 : 0;
    }
  });
  return path.join(dist, candidates[candidates.length - 1]!.file);
}

/**
 * The base URL the pointer's wheel uri was made with (`<base>/simple/<project>/<wheel>` or the
 * bare key when relative), so the attestation uri follows the same convention.
 */
function baseUrlOf(pointer: Pointer, wheelFile: string, file: string): string {
  const key = wheelKey(pointer.name, wheelFile);
  if (pointer.uri === key) return '';
  if (pointer.uri.endsWith(`/${key}`)) return pointer.uri.slice(0, -key.length - 1);
  throw new ProvenantError('E_POINTER_URI_UNEXPECTED', `pointer uri ${pointer.uri} does not end with ${key}`, {
    file,
    field: 'pointer.uri',
    hint: 'rebuild with `provenant build` so the pointer follows the repository layout',
  });
}

async function signOne(i: Integration, req: SignRequest, policyForSelfCheck: SelfCheckPolicy): Promise<SignResult> {
  const dist = path.join(i.dir, 'dist');
  const project = i.project === undefined ? undefined : normalizeProjectName(i.project);
  const pointerPath = await findPointer(dist, project, req.version);
  const pointer = parsePointer(new TextDecoder().decode(await readFile(pointerPath)), pointerPath);
  if (path.basename(pointerPath) !== pointerFileName(pointer.name, pointer.version)) {
    throw new ProvenantError('E_POINTER_NAME_MISMATCH', `pointer names ${pointer.name} ${pointer.version}, but its file is ${path.basename(pointerPath)}`, {
      file: pointerPath,
      field: 'pointer.name',
      hint: 'rebuild with `provenant build`',
    });
  }

  // The statement must describe exactly the wheel in dist/ that the pointer pins.
  const wheelFile = pointer.uri.slice(pointer.uri.lastIndexOf('/') + 1);
  const wheelPath = path.join(dist, wheelFile);
  const wheel = await readIfExists(wheelPath);
  if (!wheel) throw notBuilt(dist, `wheel ${wheelFile} (named by the pointer) is missing`, wheelPath);
  const wheelSha = sha256Hex(wheel);
  if (wheelSha !== pointer.digest || wheel.length !== pointer.length) {
    throw new ProvenantError('E_STATEMENT_SUBJECT_MISMATCH', `wheel ${wheelFile} in dist/ is not the one the pointer pins (sha256 ${wheelSha}, pointer ${pointer.digest})`, {
      exitClass: 'verification',
      file: wheelPath,
      field: 'pointer.digest',
      hint: 'the wheel changed after build; run `provenant build` again',
    });
  }
  const statementPath = path.join(dist, statementFileName(pointer.name, pointer.version));
  const statement = await readIfExists(statementPath);
  if (!statement) throw notBuilt(dist, `statement ${path.basename(statementPath)} is missing`, statementPath);
  const facts = provenanceFacts(parseStatement(statement, statementPath));
  const subject = facts.subjects.find((s) => s.name === wheelFile);
  if (!subject || subject.sha256 !== wheelSha) {
    throw new ProvenantError(
      'E_STATEMENT_SUBJECT_MISMATCH',
      subject
        ? `statement subject ${wheelFile} has sha256 ${subject.sha256}, but the wheel in dist/ has ${wheelSha}`
        : `statement has no subject named ${wheelFile} (subjects: ${facts.subjects.map((s) => s.name).join(', ') || 'none'})`,
      { exitClass: 'verification', file: statementPath, field: 'subject', hint: 'the statement is from another build; run `provenant build` again' },
    );
  }

  const bundleName = bundleFileName(pointer.name, pointer.version);
  const bundlePath = path.join(dist, bundleName);
  const uri = artifactUri(baseUrlOf(pointer, wheelFile, pointerPath), attestationKey(pointer.name, bundleName));
  const result = (status: SignResult['status'], bytes: Uint8Array, pointerBytes: Uint8Array, signedBy: Pick<SignResult, 'keyIds' | 'keyless'>): SignResult => ({
    integration: i.name,
    project: pointer.name,
    version: pointer.version,
    dist,
    status,
    ...signedBy,
    bundle: { path: bundlePath, fileName: bundleName, sha256: sha256Hex(bytes), size: bytes.length, uri },
    pointer: { path: pointerPath, fileName: path.basename(pointerPath), sha256: sha256Hex(pointerBytes), size: pointerBytes.length },
  });

  // Re-running sign (e.g. a retried release) keeps an existing valid bundle: a new signature
  // would change the pinned digest of a release that may already be published.
  const existing = await readIfExists(bundlePath);
  if (existing && pointer.attestation.digest === sha256Hex(existing) && pointer.attestation.length === existing.length && pointer.attestation.uri === uri) {
    try {
      const kept = checkSigned(existing, statement, req, policyForSelfCheck, bundlePath);
      if (kept) return result('unchanged', existing, await readFile(pointerPath), kept);
    } catch (e) {
      if (!isProvenantError(e)) throw e;
      // Not valid for these keys or this statement: sign afresh below.
    }
  }

  const signed = req.keyless ? await signAttestationKeyless(statement, req.keyless) : await signAttestation(statement, req.signers);
  // Check what we are about to pin: keyed, with the verifier downloaders run against exactly
  // these keys; keyless, as far as it can be without the trusted root (keylessSelfCheck).
  const signedBy = checkSigned(signed.bytes, statement, req, policyForSelfCheck, bundlePath);
  if (!signedBy) throw new Error('the new attestation bundle does not wrap the statement it was made from');
  const newPointer: Pointer = { ...pointer, attestation: { ...pointer.attestation, uri, digest: sha256Hex(signed.bytes), length: signed.bytes.length } };
  const pointerBytes = new TextEncoder().encode(renderPointer(newPointer));
  await replaceFilesTogether(dist, [
    { name: bundleName, bytes: signed.bytes },
    { name: path.basename(pointerPath), bytes: pointerBytes },
  ]);
  return result('signed', signed.bytes, pointerBytes, signedBy);
}

/**
 * Who signed `bytes` over exactly `statement`, in the way this request signs (keyed by these
 * keys, or keyless); undefined when it wraps another statement or was signed the other way.
 */
function checkSigned(bytes: Uint8Array, statement: Uint8Array, req: SignRequest, policy: SelfCheckPolicy, file: string): Pick<SignResult, 'keyIds' | 'keyless'> | undefined {
  if (req.keyless) {
    const parsed = parseAttestationBundle(bytes, file, { acceptCertificate: true });
    if (parsed.kind !== 'keyless' || !Buffer.from(parsed.envelope.payload).equals(statement)) return undefined;
    const c = keylessSelfCheck(parsed, file);
    return { keyIds: [], keyless: { issuer: c.certificate.issuer, subject: c.certificate.subject, logIndexes: c.logIndexes } };
  }
  const v = verifyAttestationBundle(bytes, policy!, { file });
  return Buffer.from(v.payload).equals(statement) ? { keyIds: v.keyIds } : undefined;
}

type SelfCheckPolicy = ReturnType<typeof defaultPolicy> | undefined;

/**
 * Signs what `build` left in each integration's dist/: the statement, wrapped in DSSE and signed
 * into `<project>-<version>-attestation.sigstore.json`, and the pointer re-pinned to that bundle
 * (uri, sha256, length). Bundle and pointer are replaced together or not at all. Refuses when
 * the statement's subject is not the wheel in dist/ (E_STATEMENT_SUBJECT_MISMATCH).
 */
export async function signIntegrations(integrations: readonly Integration[], req: SignRequest): Promise<SignResult[]> {
  const r = req.reporter ?? silentReporter;
  if (req.signers.length === 0 && !req.keyless) {
    throw new ProvenantError('E_SIGNER_MISSING', 'no attestation signer given', { exitClass: 'usage', hint: 'pass --keys DIR or --key FILE, or --keyless' });
  }
  const selfCheck = req.keyless ? undefined : defaultPolicy({ attestationKeys: req.signers, threshold: new Set(req.signers.map((s) => s.keyId)).size });
  const results: SignResult[] = [];
  for (const i of integrations) {
    r.step(i.name, 'sign', 'start');
    try {
      const res = await signOne(i, req, selfCheck);
      const by = res.keyless ? `keyless as ${res.keyless.subject ?? '?'}, Rekor log index ${res.keyless.logIndexes.join(', ')}` : `key ${res.keyIds.map((k) => k.slice(0, 12)).join(', ')}`;
      r.step(i.name, 'sign', res.status === 'signed' ? 'ok' : 'skip', `${res.bundle.fileName}${res.status === 'unchanged' ? ' (already signed)' : ''}, ${by}`);
      results.push(res);
    } catch (e) {
      r.step(i.name, 'sign', 'fail', isProvenantError(e) ? e.code : undefined);
      throw e;
    }
    r.progress('integrations signed', results.length, integrations.length);
  }
  return results;
}
