import assert from 'node:assert/strict';
import { mkdir, readdir, readFile, stat, truncate, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { downloadWheel } from '../../src/app/download.ts';
import { attestationKey, consistentTargetPath, pointerTargetPath, wheelKey } from '../../src/formats/layout.ts';
import { sha256Hex } from '../../src/util/hash.ts';
import { publish, publishPolicy, publishPolicyBytes, repoFixture, resignWithPayloadType, rogueSigner, signedRelease, type RepoFixture } from './helpers/fixture.ts';
import { download, expectRefused } from './helpers/run.ts';
import { serveRepository, streamForever } from './helpers/servers.ts';

const P = 'datadog-demo';
const V = '1.0.0';
const WHEEL = `datadog_demo-${V}-py3-none-any.whl`;

async function published(t: { after(fn: () => unknown): void }, o: Parameters<typeof signedRelease>[3] = {}) {
  const fx = await repoFixture(t);
  const release = await signedRelease(fx, P, V, o);
  await publish(fx, [release]);
  return { fx, release };
}

async function flipByte(fx: RepoFixture, key: string, at = 10): Promise<void> {
  const file = path.join(fx.repoDir, key);
  const bytes = await readFile(file);
  bytes[at] = bytes[at]! ^ 0x01;
  await writeFile(file, bytes);
}

function pointerKey(release: { pointer: Uint8Array }): string {
  return consistentTargetPath(pointerTargetPath(P, V), sha256Hex(release.pointer));
}

test('tampered wheel (same length, one byte changed): E_WHEEL_DIGEST', async (t) => {
  const { fx } = await published(t);
  await flipByte(fx, wheelKey(P, WHEEL));
  const server = await serveRepository(t, fx.repoDir);
  await expectRefused(fx, server.url, P, 'E_WHEEL_DIGEST', 'verification');
});

test('wheel shorter than pinned: E_WHEEL_LENGTH', async (t) => {
  const { fx } = await published(t);
  await truncate(path.join(fx.repoDir, wheelKey(P, WHEEL)), 100);
  const server = await serveRepository(t, fx.repoDir);
  await expectRefused(fx, server.url, P, 'E_WHEEL_LENGTH', 'verification');
});

test('wheel longer than pinned, served forever: the read stops at the length (E_WHEEL_LENGTH)', async (t) => {
  const { fx, release } = await published(t);
  const counter = { sent: 0, closed: false };
  const server = await serveRepository(t, fx.repoDir, (p, _req, res) => {
    if (!p.endsWith('.whl')) return false;
    streamForever(res, counter);
    return true;
  });
  const err = await expectRefused(fx, server.url, P, 'E_WHEEL_LENGTH', 'verification');
  assert.match(err.message, /more than the \d+ bytes/);
  for (let i = 0; i < 200 && !counter.closed; i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(counter.closed, 'the client did not hang up on the endless wheel');
  // What the server pushed before the hang-up is bounded by socket buffers, not by time.
  assert.ok(counter.sent < 32 * 1024 * 1024, `server sent ${counter.sent} bytes for a ${release.wheel.bytes.length}-byte wheel`);
});

test('tampered pointer: E_TARGET_DIGEST (TUF pins the pointer)', async (t) => {
  const { fx, release } = await published(t);
  await flipByte(fx, pointerKey(release), 20);
  const server = await serveRepository(t, fx.repoDir);
  await expectRefused(fx, server.url, P, 'E_TARGET_DIGEST', 'verification');
});

test('tampered attestation: E_ATTESTATION_DIGEST', async (t) => {
  const { fx, release } = await published(t);
  await flipByte(fx, attestationKey(P, release.attestation.fileName), 50);
  const server = await serveRepository(t, fx.repoDir);
  await expectRefused(fx, server.url, P, 'E_ATTESTATION_DIGEST', 'verification');
});

test('attestation of another version (subject mismatch): E_SUBJECT_MISMATCH', async (t) => {
  const fx = await repoFixture(t);
  const old = await signedRelease(fx, P, '0.9.0');
  await publish(fx, [old]);
  // 1.0.0's pointer pins 0.9.0's genuine, correctly signed attestation.
  await publish(fx, [await signedRelease(fx, P, V, { attestation: old.attestation })]);
  const server = await serveRepository(t, fx.repoDir);
  await expectRefused(fx, server.url, P, 'E_SUBJECT_MISMATCH', 'verification', { version: V });
});

test('attestation naming the wheel with another digest: E_SUBJECT_DIGEST', async (t) => {
  const { fx } = await published(t, { editStatement: (s) => void ((s.subject as { digest: { sha256: string } }[])[0]!.digest.sha256 = '0'.repeat(64)) });
  const server = await serveRepository(t, fx.repoDir);
  await expectRefused(fx, server.url, P, 'E_SUBJECT_DIGEST', 'verification');
});

test('bundle signed by a key not in the policy (claiming the policy key): E_ATTESTATION_SIGNATURE', async (t) => {
  const fx = await repoFixture(t);
  const forged = await signedRelease(fx, P, V, {
    signers: [rogueSigner()],
    editBundle: (b) => {
      // The rogue signature's key hints are rewritten to name the repository's attestation key.
      (b.verificationMaterial as { publicKey: { hint: string } }).publicKey.hint = fx.attestation.keyId;
      for (const s of (b.dsseEnvelope as { signatures: { keyid: string }[] }).signatures) s.keyid = fx.attestation.keyId;
    },
  });
  await publish(fx, [forged]);
  const server = await serveRepository(t, fx.repoDir);
  await expectRefused(fx, server.url, P, 'E_ATTESTATION_SIGNATURE', 'verification');
});

test('key embedded in the bundle that the policy does not list: E_ATTESTATION_KEY_UNTRUSTED', async (t) => {
  const { fx } = await published(t, { signers: [rogueSigner()] });
  const server = await serveRepository(t, fx.repoDir);
  await expectRefused(fx, server.url, P, 'E_ATTESTATION_KEY_UNTRUSTED', 'verification');
});

test('wrong payloadType (validly signed): E_ATTESTATION_PAYLOAD_TYPE', async (t) => {
  const fx = await repoFixture(t);
  await publish(fx, [await signedRelease(fx, P, V, { editBundle: (b, statement) => resignWithPayloadType(b, statement, 'application/json', fx.attestation) })]);
  const server = await serveRepository(t, fx.repoDir);
  await expectRefused(fx, server.url, P, 'E_ATTESTATION_PAYLOAD_TYPE', 'verification');
});

test('wrong statement _type (validly signed): E_STATEMENT_TYPE', async (t) => {
  const { fx } = await published(t, { editStatement: (s) => void (s._type = 'https://in-toto.io/Statement/v9') });
  const server = await serveRepository(t, fx.repoDir);
  await expectRefused(fx, server.url, P, 'E_STATEMENT_TYPE', 'verification');
});

test('wrong predicateType (validly signed): E_PREDICATE_TYPE', async (t) => {
  const { fx } = await published(t, { editStatement: (s) => void (s.predicateType = 'https://slsa.dev/provenance/v0.2') });
  const server = await serveRepository(t, fx.repoDir);
  await expectRefused(fx, server.url, P, 'E_PREDICATE_TYPE', 'verification');
});

test('builder not allowed by the policy: E_PROVENANCE_BUILDER', async (t) => {
  const { fx } = await published(t, { context: { builderId: 'https://ci.attacker.example/builder@v1' } });
  const server = await serveRepository(t, fx.repoDir);
  await expectRefused(fx, server.url, P, 'E_PROVENANCE_BUILDER', 'verification');
});

test('source repository not allowed by the policy: E_PROVENANCE_SOURCE', async (t) => {
  const { fx } = await published(t, { context: { repository: 'https://github.com/attacker/integrations-core' } });
  await publishPolicy(fx, { sourceRepositories: ['https://github.com/DataDog/*'] });
  const server = await serveRepository(t, fx.repoDir);
  await expectRefused(fx, server.url, P, 'E_PROVENANCE_SOURCE', 'verification');
});

test('ref not allowed by the policy: E_PROVENANCE_REF; the allowed ref passes', async (t) => {
  const fx = await repoFixture(t);
  await publish(fx, [await signedRelease(fx, P, V, { context: { ref: 'refs/heads/feature' } }), await signedRelease(fx, P, '1.1.0', { context: { ref: 'refs/tags/demo-1.1.0' } })]);
  await publishPolicy(fx, { refs: ['refs/tags/*'] });
  const server = await serveRepository(t, fx.repoDir);
  await expectRefused(fx, server.url, P, 'E_PROVENANCE_REF', 'verification', { version: V });
  assert.equal((await download(fx, server.url, P)).version, '1.1.0');
});

test('a failed download removes the destination directories it created, and only those', async (t) => {
  const { fx } = await published(t);
  await flipByte(fx, wheelKey(P, WHEEL));
  const parent = path.join(fx.dir, 'existing');
  await mkdir(parent);
  const dest = path.join(parent, 'a', 'b', 'c');
  await assert.rejects(downloadWheel({ project: P, repository: fx.repoDir, root: fx.rootFile, stateDir: path.join(fx.dir, 'state'), dest, env: {} }), (e) => (e as { code: string }).code === 'E_WHEEL_DIGEST');
  assert.ok((await stat(parent)).isDirectory());
  assert.deepEqual(await readdir(parent), []);
});

test('certificate embedded in the bundle (instead of a policy key hint): E_ATTESTATION_KEY_UNTRUSTED', async (t) => {
  const { fx } = await published(t, {
    signers: [rogueSigner()],
    editBundle: (b) => {
      const vm = b.verificationMaterial as Record<string, unknown>;
      delete vm.publicKey;
      vm.certificate = { rawBytes: Buffer.from('a certificate the policy never saw').toString('base64') };
    },
  });
  await expectRefused(fx, fx.repoDir, P, 'E_ATTESTATION_KEY_UNTRUSTED', 'verification');
});

test('pinned attestation that is not a Sigstore bundle: E_ATTESTATION_MALFORMED', async (t) => {
  const fx = await repoFixture(t);
  await publish(fx, [await signedRelease(fx, P, V, { attestation: { fileName: 'datadog-demo-1.0.0-attestation.sigstore.json', bytes: new TextEncoder().encode('{"hello": "world"}') } })]);
  await expectRefused(fx, fx.repoDir, P, 'E_ATTESTATION_MALFORMED', 'verification');
});

test('a policy target pinned far beyond any real policy is refused before it is fetched (E_TARGET_LENGTH)', async (t) => {
  const { fx } = await published(t);
  await publishPolicyBytes(fx, new TextEncoder().encode(`${JSON.stringify({ padding: 'x'.repeat(2 << 20) })}\n`));
  const server = await serveRepository(t, fx.repoDir);
  const err = await expectRefused(fx, server.url, P, 'E_TARGET_LENGTH', 'verification');
  assert.match(err.message, /over 1048576 bytes are refused/);
  assert.ok(!server.requests.some((r) => r.includes('attestation-policy.json')), 'the oversized policy was never requested');
});
