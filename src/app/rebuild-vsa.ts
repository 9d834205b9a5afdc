/**
 * A rebuilder's signed verdict (docs/rebuild.md): on a byte-identical rebuild, a SLSA VSA over the
 * wheel naming the release's attestation, signed with the rebuilder's key; published beside the
 * release as a TUF target so hosts whose policy lists `rebuilders` can count it.
 */
import { signAttestation } from '../attest/sign.ts';
import { ProvenantError } from '../errors.ts';
import { rebuildTargetPath } from '../formats/layout.ts';
import { normalizeProjectName, parseWheelFileName } from '../formats/pep503.ts';
import { parseVsa, rebuildVsa, renderVsa } from '../formats/vsa.ts';
import { PROVENANT_VERSION } from '../provenance/version.ts';
import { silentReporter, type Reporter } from '../reporter.ts';
import type { Signer } from '../signers/signer.ts';
import type { Storage } from '../storage/storage.ts';
import type { SignerSource } from '../tuf/signer-source.ts';
import { publishStatements, singleKeyedStatement, type PublishStatementsResult } from './publish-statements.ts';
import { rebuildMismatch, type RebuildResult } from './rebuild.ts';

export interface SignedVsa {
  project: string;
  version: string;
  keyId: string;
  /** Where it is published: `rebuilds/<project>/<version>/<keyid>.sigstore.json`. */
  target: string;
  bytes: Uint8Array;
}

/** Signs a VSA of a matching rebuild; a mismatch is never signed (E_REBUILD_MISMATCH instead). */
export async function signRebuildVsa(r: RebuildResult, signer: Signer, now: Date = new Date()): Promise<SignedVsa> {
  if (!r.match || r.rebuilt.sha256 !== r.published.sha256) throw rebuildMismatch(r);
  const statement = rebuildVsa({
    wheelFileName: r.published.fileName,
    sha256: r.published.sha256,
    resourceUri: r.published.uri,
    attestation: r.attestation,
    timeVerified: now,
    verifierVersion: PROVENANT_VERSION,
  });
  const signed = await signAttestation(renderVsa(statement), [signer]);
  return { project: r.project, version: r.version, keyId: signer.keyId, target: vsaTargetOf(signed.bytes, r.published.fileName), bytes: signed.bytes };
}

/**
 * Where a VSA file goes, read from the file itself: the key id its signature names and the
 * release its subject (the wheel file name) names. Hosts are the judge (rebuilds-check.ts).
 */
export function vsaTargetOf(bytes: Uint8Array, file: string): string {
  const bad = (why: string) => new ProvenantError('E_VSA_INVALID', `${file} is not a rebuild VSA: ${why}`, { exitClass: 'input', file, hint: 'publish the file `provenant rebuild --sign-vsa` wrote' });
  const { keyId, payload } = singleKeyedStatement(bytes, file, bad);
  const parsed = parseVsa(payload);
  if ('problem' in parsed) throw bad(parsed.problem);
  const wheel = parseWheelFileName(parsed.statement.subject[0]!.name);
  if (!wheel) throw bad(`its subject ${JSON.stringify(parsed.statement.subject[0]!.name)} is not a wheel file name`);
  return rebuildTargetPath(normalizeProjectName(wheel.name), wheel.version, keyId);
}

/** VSAs are targets of the hashed bins, signed with the online key like pointers (publish-statements.ts). */
export async function publishVsas(
  storage: Storage,
  signers: SignerSource,
  files: readonly { file: string; bytes: Uint8Array }[],
  reporter: Reporter = silentReporter,
  opts: { now?: () => Date } = {},
): Promise<PublishStatementsResult> {
  return publishStatements(storage, signers, files, vsaTargetOf, 'publish rebuild VSA', reporter, opts);
}
