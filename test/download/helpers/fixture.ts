import { cp, readFile } from 'node:fs/promises';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { TargetFile, Targets } from '@tufjs/models';
import { buildIntegrations } from '../../../src/app/build.ts';
import { readReleaseFromDist } from '../../../src/app/publish-inputs.ts';
import { publishReleases, type Release } from '../../../src/app/publish.ts';
import { initRepository } from '../../../src/app/repo.ts';
import { signIntegrations } from '../../../src/app/sign.ts';
import { listIntegrations } from '../../../src/app/workspace.ts';
import { signAttestation } from '../../../src/attest/sign.ts';
import { renderBundle } from '../../../src/attest/bundle.ts';
import { buildWheel } from '../../../src/wheel/wheel.ts';
import { bundleFileName, consistentTargetPath, pointerTargetPath, POLICY_TARGET } from '../../../src/formats/layout.ts';
import { parsePointer, renderPointer } from '../../../src/formats/pointer.ts';
import { preAuthEncoding, toBase64 } from '../../../src/formats/dsse.ts';
import { defaultPolicy, renderPolicy, type DefaultPolicyOptions } from '../../../src/policy/policy.ts';
import type { BuildContext } from '../../../src/provenance/context.ts';
import { makeStatement, renderStatement, type ProvenanceFormat } from '../../../src/provenance/statement.ts';
import { generatePrivateKey, keyObjectSigner } from '../../../src/signers/key-file.ts';
import { loadSigner } from '../../../src/signers/key-store.ts';
import type { Signer } from '../../../src/signers/signer.ts';
import { objectPropsFor } from '../../../src/storage/object-props.ts';
import { FsStorage } from '../../../src/storage/fs.ts';
import { succinctRolesOf, targetFile } from '../../../src/tuf/changes.ts';
import { keyStoreSignerSource, type SignerSource } from '../../../src/tuf/signer-source.ts';
import { loadBin, loadTrustedState } from '../../../src/tuf/trusted-state.ts';
import { commitChanges, signersForCommit } from '../../../src/tuf/writer.ts';
import { sha256Hex } from '../../../src/util/hash.ts';
import { pinnedRelease } from '../../helpers/release.ts';
import { REPO_ROOT, tempDir } from '../../helpers/peers.ts';

/**
 * Repositories for the downloader's tests, made by provenant's own publish path: `repo init`'s
 * initRepository, real DSSE signatures by the repository's attestation key, publishReleases.
 * Attacks are then applied to the published files (or to what a server sends).
 */
export interface RepoFixture {
  dir: string;
  repoDir: string;
  keysDir: string;
  storage: FsStorage;
  signers: SignerSource;
  attestation: Signer;
  online: Signer;
  /** The root a user is given out of band. */
  rootFile: string;
}

type T = { after(fn: () => unknown): void };

export async function repoFixture(t: T, opts: { now?: Date; binCount?: number; layout?: 'datadog-v2' } = {}): Promise<RepoFixture> {
  return initFixture(await tempDir(t, 'provenant-dl-'), 'keys', opts);
}

/** The repository deleted and created again in the same place with new keys (its state elsewhere is now stale). */
export async function recreateRepository(fx: RepoFixture): Promise<RepoFixture> {
  await rm(fx.repoDir, { recursive: true, force: true });
  return initFixture(fx.dir, `keys-${Date.now()}`, {});
}

async function initFixture(dir: string, keysName: string, opts: { now?: Date; binCount?: number; layout?: 'datadog-v2' }): Promise<RepoFixture> {
  const repoDir = path.join(dir, 'repository');
  const keysDir = path.join(dir, keysName);
  const storage = new FsStorage(repoDir);
  const now = opts.now;
  await initRepository(storage, undefined, { keysDir, binCount: opts.binCount ?? 16, env: {}, ...(now ? { now: () => now } : {}), ...(opts.layout ? { layout: opts.layout } : {}) });
  return {
    dir,
    repoDir,
    keysDir,
    storage,
    signers: keyStoreSignerSource(keysDir, {}),
    attestation: await loadSigner(keysDir, 'attestation', {}),
    online: await loadSigner(keysDir, 'online', {}),
    rootFile: path.join(repoDir, 'metadata/1.root.json'),
  };
}

const enc = (s: string) => new TextEncoder().encode(s);

export function localContext(over: Partial<BuildContext> = {}): BuildContext {
  return {
    environment: 'local',
    builderId: 'https://provenant.dev/builders/local@v1',
    invocationId: 'urn:uuid:00000000-0000-4000-8000-000000000000',
    repository: 'https://github.com/DataDog/integrations-core',
    ref: 'refs/heads/master',
    commit: '0123456789abcdef0123456789abcdef01234567',
    sourceTree: 'clean',
    notes: [],
    ...over,
  };
}

export interface ReleaseOptions {
  format?: ProvenanceFormat;
  context?: Partial<BuildContext>;
  /** Wheel size in bytes (synthetic content). */
  size?: number;
  /** The statement's subject name, if not the wheel's. */
  subjectName?: string;
  /** Rewrites the statement JSON before it is signed. */
  editStatement?: (s: Record<string, unknown>) => void;
  /** Signs with these instead of the repository's attestation key. */
  signers?: Signer[];
  /** Signs the statement some other way (e.g. keyless), returning the bundle bytes. */
  signStatement?: (statement: Uint8Array) => Promise<Uint8Array>;
  /** Post-processes the signed bundle (e.g. to forge its key hint). */
  editBundle?: (bundle: Record<string, unknown>, statement: Uint8Array) => Promise<void> | void;
  /** Pins this attestation instead of one made for this release. */
  attestation?: { fileName: string; bytes: Uint8Array };
}

/** A release with a synthetic wheel and a real, signed attestation about it. */
export async function signedRelease(fx: RepoFixture, project: string, version: string, o: ReleaseOptions = {}): Promise<Release> {
  const fileName = `${project.replace(/-/g, '_')}-${version}-py3-none-any.whl`;
  const wheel = syntheticWheel(`${project} ${version}`, o.size ?? 4096);
  const metadata = enc(`Metadata-Version: 2.1\nName: ${project}\nVersion: ${version}\nRequires-Python: >=3.9\n\n`);
  let attestation = o.attestation;
  if (!attestation) {
    const statement = makeStatement(o.format ?? 'slsa-v1', {
      subject: { name: o.subjectName ?? fileName, sha256: sha256Hex(wheel) },
      integration: project.replace(/^datadog-/, ''),
      context: localContext(o.context),
      sourceDateEpoch: 1580601600,
      startedOn: new Date('2026-01-01T00:00:00Z'),
      finishedOn: new Date('2026-01-01T00:00:01Z'),
    });
    let statementBytes = renderStatement(statement);
    if (o.editStatement) {
      const json = JSON.parse(new TextDecoder().decode(statementBytes)) as Record<string, unknown>;
      o.editStatement(json);
      statementBytes = enc(JSON.stringify(json));
    }
    let bytes = o.signStatement ? await o.signStatement(statementBytes) : (await signAttestation(statementBytes, o.signers ?? [fx.attestation])).bytes;
    if (o.editBundle) {
      const json = JSON.parse(new TextDecoder().decode(bytes)) as Record<string, unknown>;
      await o.editBundle(json, statementBytes);
      bytes = enc(JSON.stringify(json));
    }
    attestation = { fileName: bundleFileName(project, version), bytes };
  }
  return pinnedRelease(project, version, { fileName, bytes: wheel, metadata }, attestation);
}

/** Deterministic bytes of a given size (not a real zip: the downloader only checks digests). */
export function syntheticWheel(seed: string, size: number): Uint8Array {
  const out = new Uint8Array(size);
  const block = enc(`PK synthetic wheel ${seed}\n`);
  for (let i = 0; i < size; i++) out[i] = block[i % block.length]!;
  return out;
}

export async function publish(fx: RepoFixture, releases: Release[], now?: Date) {
  return publishReleases(fx.storage, fx.signers, releases, undefined, { updateIndex: null, ...(now ? { now: () => now } : {}) });
}

/** Publishes a new attestation policy (a new targets.json signed by the targets key). */
export async function publishPolicy(fx: RepoFixture, over: Partial<DefaultPolicyOptions>, now = new Date()): Promise<void> {
  await publishPolicyBytes(fx, renderPolicy(defaultPolicy({ attestationKeys: [fx.attestation], ...over })), now);
}

/**
 * Publishes `bytes` as the policy target, signed by the targets role, whatever they hold.
 * `hashes` (default: its sha256) are what TUF pins; the file is stored under the first one's name.
 */
export async function publishPolicyBytes(fx: RepoFixture, bytes: Uint8Array, now = new Date(), hashes?: Record<string, string>): Promise<void> {
  const target = hashes ? new TargetFile({ path: POLICY_TARGET, length: bytes.byteLength, hashes }) : targetFile(POLICY_TARGET, bytes);
  const key = consistentTargetPath(POLICY_TARGET, Object.values(target.hashes)[0]!);
  await fx.storage.putImmutable(key, bytes, objectPropsFor(key));
  const state = await loadTrustedState(fx.storage);
  const json = state.targets.signed.toJSON() as { targets: Record<string, unknown> };
  json.targets[POLICY_TARGET] = target.toJSON();
  const targets = Targets.fromJSON(json as never);
  const signers = await signersForCommit(state, fx.signers, { targets });
  await commitChanges(fx.storage, state, signers, { targets }, now);
}

/**
 * A pointer for `project` `version` that pins `victim`'s wheel and attestation where they are
 * published: what an attacker writes to move another release's genuine files under this name.
 */
export function pointerTo(victim: Release, project: string, version: string): Uint8Array {
  const p = parsePointer(new TextDecoder().decode(victim.pointer), 'victim pointer');
  return enc(renderPointer({ ...p, name: project, version }));
}

/**
 * What an attacker holding ONLY the online key (bins, snapshot, timestamp) can do: upload
 * pointers and make them the TUF targets for `project` `version`, new or replacing what is
 * published, by re-signing the bins, the snapshot and the timestamp. The bins are written
 * directly, not through the publisher (which refuses to change a published pointer).
 */
export async function forgeWithOnlineKey(fx: RepoFixture, pointers: { project: string; version: string; pointer: Uint8Array }[], now = new Date()): Promise<void> {
  const state = await loadTrustedState(fx.storage);
  const bins = new Map<string, Targets>();
  for (const p of pointers) {
    const targetPath = pointerTargetPath(p.project, p.version);
    const target = targetFile(targetPath, p.pointer);
    const key = consistentTargetPath(targetPath, target.hashes.sha256!);
    await fx.storage.putImmutable(key, p.pointer, objectPropsFor(key));
    const name = succinctRolesOf(state.targets.signed).getRoleForTarget(targetPath);
    const json = (bins.get(name) ?? (await loadBin(fx.storage, state, name)).signed).toJSON() as { targets: Record<string, unknown> };
    json.targets[targetPath] = target.toJSON();
    bins.set(name, Targets.fromJSON(json as never));
  }
  const online = [fx.online];
  await commitChanges(fx.storage, state, { root: [], targets: [], bins: online, snapshot: online, timestamp: online }, { bins }, now);
}

/** A signer for a key the repository has never heard of. */
export function rogueSigner(type: 'ed25519' | 'ecdsa' = 'ecdsa'): Signer {
  return keyObjectSigner(generatePrivateKey(type));
}

/** Replaces the bundle's DSSE signature with one by `signer` over another payloadType. */
export async function resignWithPayloadType(bundle: Record<string, unknown>, statement: Uint8Array, payloadType: string, signer: Signer): Promise<void> {
  const env = bundle.dsseEnvelope as { payloadType: string; signatures: { sig: string; keyid: string }[] };
  env.payloadType = payloadType;
  env.signatures = [{ sig: toBase64(await signer.sign(preAuthEncoding(payloadType, statement))), keyid: env.signatures[0]?.keyid ?? '' }];
}

/** The real examples, built, attested and signed by provenant in a copy, then published. */
export async function publishExamples(fx: RepoFixture, format: ProvenanceFormat = 'slsa-v1'): Promise<{ project: string; version: string }[]> {
  const root = path.join(fx.dir, 'integrations');
  await cp(path.join(REPO_ROOT, 'examples/integrations'), root, { recursive: true });
  const integrations = await listIntegrations(root);
  const env = { SOURCE_DATE_EPOCH: '1580601600' };
  const built = await buildIntegrations(integrations, { env, buildWheel, format });
  await signIntegrations(integrations, { signers: [fx.attestation] });
  const releases: Release[] = [];
  for (const i of integrations) releases.push(await readReleaseFromDist(i));
  await publish(fx, releases);
  return built.map((b) => ({ project: b.project, version: b.version }));
}

export async function readRepoFile(fx: RepoFixture, key: string): Promise<Buffer> {
  return readFile(path.join(fx.repoDir, key));
}

export { bundleFileName, renderBundle };

/** The default policy's bytes, as publish writes them, and their digests. */
export function defaultPolicyBytes(fx: RepoFixture): { bytes: Uint8Array; sha256: string; sha512: string } {
  const bytes = renderPolicy(defaultPolicy({ attestationKeys: [fx.attestation] }));
  return { bytes, sha256: sha256Hex(bytes), sha512: createHash('sha512').update(bytes).digest('hex') };
}
