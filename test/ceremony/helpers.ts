import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { main } from '../../src/cli/main.ts';
import type { Output } from '../../src/cli/output.ts';
import { pointerTargetPath } from '../../src/formats/layout.ts';
import { publishReleases } from '../../src/app/publish.ts';
import { keyStoreSignerSource } from '../../src/tuf/signer-source.ts';
import { parseProposal, summarize } from '../../src/ceremony/proposal.ts';
import type { Signer } from '../../src/signers/signer.ts';
import { expiresFor, nextSnapshot, nextTimestamp } from '../../src/tuf/changes.ts';
import { metadataKey, serializeMetadata, signMetadata } from '../../src/tuf/sign.ts';
import { loadTrustedState } from '../../src/tuf/trusted-state.ts';
import { signedRelease, type RepoFixture } from '../download/helpers/fixture.ts';
import { download } from '../download/helpers/run.ts';
import { python } from '../helpers/peers.ts';
import { fetchVerifiedTargets } from '../s3/tuf-client.ts';
import { PY_TUF_CLIENT } from '../helpers/python-tuf.ts';

/** `provenant <args>` in-process (stdin is no terminal here), in the fixture's directory. */
export async function cli(fx: { dir: string }, ...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const o: Output & { out: string; err: string } = { out: '', err: '', interactive: false, stdout: (t) => void (o.out += t), stderr: (t) => void (o.err += t) };
  const code = await main(args, o, {}, fx.dir);
  return { code, out: o.out, err: o.err };
}

/** The same, asserting success; returns stdout. */
export async function ok(fx: RepoFixture, ...args: string[]): Promise<string> {
  const r = await cli(fx, ...args);
  assert.equal(r.code, 0, `provenant ${args.join(' ')}: ${r.err}`);
  return r.out;
}

/** The same, asserting the error code on the last stderr line; returns stderr. */
export async function refused(fx: RepoFixture, code: string, ...args: string[]): Promise<string> {
  const r = await cli(fx, ...args);
  assert.notEqual(r.code, 0, `provenant ${args.join(' ')} succeeded`);
  assert.match(r.err, new RegExp(`provenant: ${code}:`), r.err);
  return r.err;
}

export const repoFlags = (fx: RepoFixture) => ['--repository', fx.repoDir, '--keys', fx.keysDir];

/** Publishes a freshly signed release with the key store (whatever online key it now trusts). */
export async function release(fx: RepoFixture, project: string, version: string): Promise<void> {
  const source = keyStoreSignerSource(fx.keysDir, {});
  try {
    const r = await publishReleases(fx.storage, source, [await signedRelease(fx, project, version)], undefined, { updateIndex: null });
    assert.equal(r.committed, true);
  } finally {
    await source.close?.();
  }
}


/**
 * Three hosts that started from 1.root.json and keep their trusted metadata between runs:
 * `provenant download`, tuf-js and python-tuf (given 1.root.json as its bootstrap each run, it
 * still keeps its timestamp and snapshot). `verify` has each fetch one release.
 */
export function hosts(fx: RepoFixture, url: () => string) {
  const js = path.join(fx.dir, 'tuf-js');
  const py = { meta: path.join(fx.dir, 'py-meta'), targets: path.join(fx.dir, 'py-targets') };
  const target = (project: string, version: string) => pointerTargetPath(project, version);
  const one = {
    async provenant(project: string, version: string): Promise<void> {
      const got = await download(fx, url(), project, { version });
      assert.ok(got.path.endsWith(`${project.replace(/-/g, '_')}-${version}-py3-none-any.whl`), got.path);
    },
    async tufjs(project: string, version: string): Promise<void> {
      // tuf-js checks the target's length and hashes itself (downloadTarget).
      const got = await fetchVerifiedTargets({ baseUrl: url(), trustedRoot: await readFile(fx.rootFile), dir: js }, [target(project, version)]);
      assert.match(got.get(target(project, version))!.toString('utf8'), /^pointer:/m);
    },
    async python(project: string, version: string): Promise<void> {
      await mkdir(py.meta, { recursive: true });
      await mkdir(py.targets, { recursive: true });
      const { stdout } = await python(['-c', PY_TUF_CLIENT, py.meta, fx.rootFile, url(), py.targets, target(project, version)]);
      assert.match(await readFile(stdout.trim().split(' ')[1]!, 'utf8'), /^pointer:/m);
    },
  };
  return {
    ...one,
    async verify(project: string, version: string): Promise<void> {
      for (const host of [one.provenant, one.tufjs, one.python]) await host(project, version);
    },
    /** The root version each host now trusts (tuf-js's and python-tuf's root.json; provenant's state). */
    async rootVersions(): Promise<number[]> {
      const v = async (f: string) => (JSON.parse(await readFile(f, 'utf8')) as { signed: { version: number } }).signed.version;
      return [await v(path.join(js, 'metadata/root.json')), await v(path.join(py.meta, 'root.json'))];
    },
  };
}

export const HUGE = 1_000_000_000;

/** An attacker with an online key (the repository's, unless given) and write access: snapshot and timestamp at version `version`. */
export async function fastForward(fx: RepoFixture, signer: Signer = fx.online, version = HUGE): Promise<string[]> {
  const state = await loadTrustedState(fx.storage);
  const now = new Date();
  const snap = await signMetadata(nextSnapshot(state.snapshot.signed, {}, version, state.config.specVersion, expiresFor(state.config, 'snapshot', now)), [signer], 'snapshot');
  const snapBytes = serializeMetadata(snap);
  const ts = await signMetadata(nextTimestamp(version, snapBytes, version, state.config.specVersion, expiresFor(state.config, 'timestamp', now)), [signer], 'timestamp');
  await writeFile(path.join(fx.repoDir, metadataKey('snapshot', version)), snapBytes);
  await writeFile(path.join(fx.repoDir, metadataKey('timestamp')), serializeMetadata(ts));
  return [metadataKey('snapshot', version)];
}

/** The recovery docs/ceremony.md gives: a root proposal replacing the online key, signed by the root and targets keys, published. */
export async function rotateOnlineKey(fx: RepoFixture): Promise<void> {
  const flags = repoFlags(fx);
  await ok(fx, 'repo', 'root', 'propose', ...flags, '--online-key', 'new');
  const p = path.join(fx.dir, 'proposals/root-v2.json');
  await ok(fx, 'repo', 'root', 'sign', p, '--key', path.join(fx.keysDir, 'root.pem'), '--yes', ...flags);
  await ok(fx, 'repo', 'targets', 'sign', p, '--key', path.join(fx.keysDir, 'targets.pem'), '--yes', ...flags);
  await ok(fx, 'repo', 'root', 'publish', p, ...flags);
}

/**
 * What an attacker who edited a proposal file (no keys) does next: recompute its summary from the
 * edited metadata (and the file's key names) so the summary check still passes. Returns the file's JSON.
 */
export async function withRecomputedSummary(fx: RepoFixture, doc: { summary: string[]; keyNames: Record<string, string> }, file: string): Promise<string> {
  const p = parseProposal(new TextEncoder().encode(JSON.stringify(doc)), file);
  const state = await loadTrustedState(fx.storage);
  doc.summary = summarize({ root: state.root.signed, targets: state.targets.signed }, { root: p.root?.signed, targets: p.targets?.signed }, (id) => doc.keyNames[id] ?? '');
  return JSON.stringify(doc, null, 2);
}
