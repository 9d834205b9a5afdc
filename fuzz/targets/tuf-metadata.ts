/**
 * Fuzz target: one TUF metadata file, as the downloader reads it. At start a real repository is
 * made (`repo init` + `release --all`, this run's keys). Each input takes the place of the file
 * of its role in a copy of that repository: a root becomes 2.root.json, a timestamp
 * timestamp.json, a snapshot, targets or bin its versioned file, and the files that pin it
 * (snapshot, timestamp) are re-made and re-signed to pin the fuzzed bytes, so the input's own
 * content and signatures are what is checked. Then the client runs as `download` does:
 * TufClient.open, refresh, the policy target, the delegated bins and two pointer targets.
 *
 * Seeds are templates: `@@keyid:…@@`, `@@public:…@@`, `@@sha256:…@@` and `@@sig:<key>@@` are
 * filled with this run's values and signatures (no private key is committed).
 * Contract extra: every file the client accepted into its trusted state has a signed part that
 * one of this run's keys signed exactly (nothing unsigned slipped through verification).
 */
import { link, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { readdirSync, readFileSync } from 'node:fs';
import { Targets } from '@tufjs/models';
import { isProvenantError } from '../../src/errors.ts';
import { POLICY_TARGET } from '../../src/formats/layout.ts';
import { FileFetcher } from '../../src/net/file-fetcher.ts';
import { silentReporter } from '../../src/reporter.ts';
import { loadSigner } from '../../src/signers/key-store.ts';
import type { Signer } from '../../src/signers/signer.ts';
import { sha256Hex } from '../../src/util/hash.ts';
import { TufClient } from '../../src/verify/tuf-client.ts';
import { makeFixtureRepository } from '../lib/fixture-repo.ts';
import { fill, latin1, pending } from '../lib/placeholders.ts';
import { scratchDir } from '../lib/scratch.ts';
import { signedPart, TUF_KEY_NAMES, tufValues } from '../lib/tuf-values.ts';

type Json = Record<string, unknown>;
type Doc = { signatures: unknown; signed: Json };

const base = scratchDir('tuf');
const fx = await makeFixtureRepository(path.join(base, 'fixture'), { githubActions: true });
const values = tufValues(fx.repoDir, fx.keysDir);
const signers = Object.fromEntries(await Promise.all(TUF_KEY_NAMES.map(async (n) => [n, await loadSigner(fx.keysDir, n, {})] as const))) as Record<string, Signer>;

/** Every file of the repository, by key. */
const baseline = new Map<string, Buffer>();
for (const rel of readdirSync(fx.repoDir, { recursive: true }) as string[]) {
  const abs = path.join(fx.repoDir, rel);
  try {
    baseline.set(rel.split(path.sep).join('/'), readFileSync(abs));
  } catch {
    // a directory
  }
}
const metadata = (name: string) => JSON.parse(baseline.get(`metadata/${name}`)!.toString('utf8')) as Doc;
const timestamp = metadata('timestamp.json');
const snapshotVersion = ((timestamp.signed.meta as Json)['snapshot.json'] as { version: number }).version;
const snapshot = metadata(`${snapshotVersion}.snapshot.json`);
const roleVersions = snapshot.signed.meta as Record<string, { version: number }>;
const topTargets = metadata(`${roleVersions['targets.json']!.version}.targets.json`);
const succinct = Targets.fromJSON(topTargets.signed as Parameters<typeof Targets.fromJSON>[0]).delegations!.succinctRoles!;

/** Signed parts this run's keys signed: the repository's own, and each one signed here. */
const signedByThisRun = new Set<string>();
for (const [key, bytes] of baseline) if (key.startsWith('metadata/')) signedByThisRun.add(signedPart(JSON.parse(bytes.toString('utf8'))));

async function sign(doc: Doc, keyName: string): Promise<string> {
  const part = signedPart(doc);
  signedByThisRun.add(part);
  return Buffer.from(await signers[keyName]!.sign(new TextEncoder().encode(part))).toString('hex');
}

/** Fills this run's values, then signs each `@@sig:<key>@@` over the document's signed part. */
async function fillTuf(data: Uint8Array): Promise<Buffer> {
  const text = fill(latin1.text(data), values);
  const sigs = pending(text, 'sig:');
  if (sigs.length === 0) return latin1.bytes(text);
  let doc: Doc;
  try {
    doc = JSON.parse(latin1.bytes(text).toString('utf8')) as Doc;
    signedPart(doc);
  } catch {
    return latin1.bytes(text); // not signable: the placeholders stay, and fail as signatures
  }
  const sigValues: Record<string, string> = {};
  for (const name of sigs) if (signers[name.slice(4)]) sigValues[name] = await sign(doc, name.slice(4));
  return latin1.bytes(fill(text, sigValues));
}

/** The seed with real signatures, for mutants of signed documents. */
export const prepare = fillTuf;

/** The bin a targets document speaks for: the one its first target path is delegated to. */
function binOf(signed: Json, bytes: Buffer): string {
  const first = Object.keys((signed.targets as Json | null) ?? {})[0] ?? sha256Hex(bytes);
  return succinct.getRoleForTarget(first);
}

function versionOf(signed: Json, fallback: number): number {
  return Number.isSafeInteger(signed.version) && (signed.version as number) > 0 ? (signed.version as number) : fallback;
}

/** The repository as served for this input: the fuzzed file in its place, its pinning files re-signed. */
async function layout(bytes: Buffer): Promise<{ files: Map<string, Buffer>; rootFile?: string }> {
  const files = new Map(baseline);
  let doc: Doc | undefined;
  try {
    doc = JSON.parse(bytes.toString('utf8')) as Doc;
  } catch {
    doc = undefined;
  }
  const signed = typeof doc?.signed === 'object' && doc.signed !== null ? doc.signed : undefined;
  const type = signed?._type;
  if (signed && type === 'root') {
    files.set('metadata/2.root.json', bytes);
    return { files, rootFile: 'metadata/2.root.json' };
  }
  if (!signed || (type !== 'snapshot' && type !== 'targets')) {
    files.set('metadata/timestamp.json', bytes);
    return { files };
  }
  let snapshotBytes = bytes;
  let snapVersion = versionOf(signed, snapshotVersion);
  if (type === 'targets') {
    const role = signed.delegations !== undefined ? 'targets' : binOf(signed, bytes);
    const version = versionOf(signed, roleVersions[`${role}.json`]?.version ?? 1);
    files.set(`metadata/${version}.${role}.json`, bytes);
    const next: Doc = { signatures: [], signed: { ...snapshot.signed, meta: { ...roleVersions, [`${role}.json`]: { version } } } };
    next.signatures = [{ keyid: values['keyid:online'], sig: await sign(next, 'online') }];
    snapshotBytes = Buffer.from(JSON.stringify(next));
    snapVersion = snapshotVersion;
  }
  files.set(`metadata/${snapVersion}.snapshot.json`, snapshotBytes);
  const ts: Doc = {
    signatures: [],
    signed: { ...timestamp.signed, meta: { 'snapshot.json': { version: snapVersion, length: snapshotBytes.length, hashes: { sha256: sha256Hex(snapshotBytes) } } } },
  };
  ts.signatures = [{ keyid: values['keyid:online'], sig: await sign(ts, 'online') }];
  files.set('metadata/timestamp.json', Buffer.from(JSON.stringify(ts)));
  return { files };
}

async function materialise(files: Map<string, Buffer>): Promise<string> {
  const dir = await mkdtemp(path.join(base, 'repo-'));
  for (const [key, bytes] of files) {
    const abs = path.join(dir, key);
    await mkdir(path.dirname(abs), { recursive: true });
    if (baseline.get(key) === bytes) await link(path.join(fx.repoDir, key), abs);
    else await writeFile(abs, bytes);
  }
  return dir;
}

/** Every metadata file the client kept as trusted must have been signed, exactly, by this run. */
async function assertTrustedWasSigned(stateDir: string): Promise<void> {
  for (const f of await readdir(stateDir)) {
    if (!f.endsWith('.json')) continue;
    const bytes = await readFile(path.join(stateDir, f));
    let part: string | undefined;
    try {
      part = signedPart(JSON.parse(bytes.toString('utf8')));
    } catch {
      part = undefined;
    }
    if (part === undefined || !signedByThisRun.has(part)) {
      throw new Error(`SIGNED PART CHANGED BUT VERIFIED: the client trusts ${f}, whose signed part no key of this run signed:\n${bytes.toString('utf8').slice(0, 400)}`);
    }
  }
}

export async function fuzz(data: Buffer): Promise<void> {
  const bytes = await fillTuf(data);
  const { files, rootFile } = await layout(bytes);
  const repoDir = await materialise(files);
  const stateDir = await mkdtemp(path.join(base, 'state-'));
  const repositoryUrl = `${pathToFileURL(repoDir).href}/`;
  let refused: unknown;
  const attempt = async (fn: () => Promise<unknown>) => {
    try {
      await fn();
    } catch (e) {
      if (!isProvenantError(e)) throw e;
      refused ??= e;
    }
  };
  try {
    const client = await TufClient.open({ repositoryUrl, stateDir, rootFile: path.join(fx.repoDir, 'metadata/1.root.json'), fetcher: new FileFetcher(), reporter: silentReporter });
    await attempt(async () => {
      try {
        await client.refresh();
        const policy = await client.targetInfo(POLICY_TARGET);
        if (policy) await client.fetchTarget(policy);
        const pointers = await client.listTargets('pointers/', 4);
        for (const t of pointers.slice(0, 2)) await client.fetchTarget(t);
        client.versions();
      } finally {
        await client.flush().catch(() => undefined);
      }
    });
    await assertTrustedWasSigned(stateDir);
    if (rootFile) {
      // The same bytes given as --root on a first download.
      const fresh = await mkdtemp(path.join(base, 'state-'));
      try {
        await attempt(async () => {
          const first = await TufClient.open({ repositoryUrl, stateDir: fresh, rootFile: path.join(repoDir, rootFile), fetcher: new FileFetcher(), reporter: silentReporter });
          try {
            await first.refresh();
          } finally {
            await first.flush().catch(() => undefined);
          }
        });
        await assertTrustedWasSigned(fresh);
      } finally {
        await rm(fresh, { recursive: true, force: true });
      }
    }
  } finally {
    await rm(repoDir, { recursive: true, force: true });
    await rm(stateDir, { recursive: true, force: true });
  }
  if (refused) throw refused;
}
