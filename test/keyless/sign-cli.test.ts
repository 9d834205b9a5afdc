import assert from 'node:assert/strict';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import path from 'node:path';
import { test } from 'node:test';
import { buildIntegrations } from '../../src/app/build.ts';
import { verifyAttestation } from '../../src/attest/verify.ts';
import { main } from '../../src/cli/main.ts';
import { parsePointer } from '../../src/formats/pointer.ts';
import { defaultPolicy } from '../../src/policy/policy.ts';
import { parseStatement, provenanceFacts } from '../../src/provenance/parse.ts';
import { createKey, loadSigner } from '../../src/signers/key-store.ts';
import { sha256Hex } from '../../src/util/hash.ts';
import { checkCertificateMatchesStatement } from '../../src/verify/certificate-statement.ts';
import { fakeIntegration, syntheticBuilder } from '../app-build/fixtures.ts';
import { tempDir } from '../helpers/peers.ts';
import type { Output } from '../../src/cli/output.ts';
import { releaseIdentity, RUN } from './helpers/keyless.ts';
import { startSigstore, type SigstoreInstance } from './helpers/sigstore.ts';

/**
 * `provenant sign` keyless through the CLI, as a GitHub Actions job with `id-token: write` runs
 * it: the runner's GITHUB_* variables, its OIDC token endpoint, and the test Sigstore instance's
 * URLs in the PROVENANT_*_URL variables.
 */
function capture(): Output & { out: string; err: string } {
  const o = { out: '', err: '', interactive: false, stdout: (t: string) => void (o.out += t), stderr: (t: string) => void (o.err += t) };
  return o;
}

/** The GitHub Actions runner environment of RUN (what build records) plus the Sigstore URLs. */
function actionsEnv(s: SigstoreInstance, withOidc = true): NodeJS.ProcessEnv {
  return {
    GITHUB_ACTIONS: 'true',
    GITHUB_SERVER_URL: 'https://github.com',
    GITHUB_REPOSITORY: RUN.repository,
    GITHUB_SHA: RUN.sha,
    GITHUB_REF: RUN.ref,
    GITHUB_WORKFLOW_REF: RUN.workflowRef,
    GITHUB_RUN_ID: '4242',
    GITHUB_RUN_ATTEMPT: '1',
    PROVENANT_FULCIO_URL: s.fulcioUrl,
    PROVENANT_REKOR_URL: s.rekorUrl,
    ...(withOidc ? s.githubActionsEnv(s.githubClaims(RUN)) : {}),
  };
}

async function builtInActions(t: { after(fn: () => unknown): void }, s: SigstoreInstance) {
  const root = await tempDir(t);
  const pg = await fakeIntegration(root, 'postgres');
  await buildIntegrations([pg], { env: actionsEnv(s, false), buildWheel: syntheticBuilder(), baseUrl: 'https://pkgs.example.com' });
  return { root, pg, dist: path.join(pg.dir, 'dist') };
}

type Doc = { ok: boolean; results: { status: string; keyIds: string[]; keyless?: { subject: string; issuer: string; logIndexes: string[] }; bundle: { path: string }; pointer: { path: string } }[]; error?: { code: string; message: string } };

test('inside GitHub Actions with an OIDC token, `provenant sign` signs keyless by default; the bundle verifies and matches the statement', async (t) => {
  const s = await startSigstore(t);
  const { root, dist } = await builtInActions(t, s);
  const env = actionsEnv(s);
  const o = capture();
  assert.equal(await main(['sign', 'postgres', '--integrations-dir', root, '--json'], o, env, root), 0, o.err);
  const r = (JSON.parse(o.out) as Doc).results[0]!;
  assert.equal(r.status, 'signed');
  assert.deepEqual(r.keyIds, []);
  assert.equal(r.keyless?.subject, `https://github.com/${RUN.workflowRef}`);
  assert.equal(r.keyless?.issuer, s.issuer);
  assert.equal(s.requests.filter((x) => x === 'GET /github/token').length, 1, 'the token came from the runner endpoint');
  const bundle = await readFile(r.bundle.path);
  const pointer = parsePointer(await readFile(r.pointer.path, 'utf8'), r.pointer.path);
  assert.equal(pointer.attestation.digest, sha256Hex(bundle));
  // What the downloader will do: the trusted root, the identity, and the certificate against the statement.
  const v = await verifyAttestation(bundle, defaultPolicy({ attestationKeys: [], identities: [releaseIdentity(s)] }), { sigstoreTrustedRoot: async () => s.trustedRootBytes });
  const facts = provenanceFacts(parseStatement(v.payload, 'statement'));
  checkCertificateMatchesStatement(v.keyless!.certificate, facts, 'statement');
  assert.equal(facts.commit, RUN.sha);

  // Signing again keeps the published bundle: no new certificate, no new log entry.
  const rekorCalls = s.requests.filter((x) => x.endsWith('/api/v1/log/entries')).length;
  const again = capture();
  assert.equal(await main(['sign', 'postgres', '--integrations-dir', root, '--json'], again, env, root), 0, again.err);
  assert.equal((JSON.parse(again.out) as Doc).results[0]!.status, 'unchanged');
  assert.deepEqual(await readFile(r.bundle.path), bundle);
  assert.equal(s.requests.filter((x) => x.endsWith('/api/v1/log/entries')).length, rekorCalls);
  assert.ok((await readdir(dist)).every((f) => !f.startsWith('.')), 'no temp files left');
});

test('keyed inside GitHub Actions when a key is given or --no-keyless; keyless elsewhere only with --keyless and a token', async (t) => {
  const s = await startSigstore(t);
  const { root } = await builtInActions(t, s);
  const keys = path.join(root, 'keys');
  await createKey(keys, 'attestation', { type: 'ecdsa', roles: ['attestation'] });
  const signer = await loadSigner(keys, 'attestation', {});
  for (const args of [['--keys', keys], ['--no-keyless', '--keys', keys]]) {
    const o = capture();
    assert.equal(await main(['sign', 'postgres', '--integrations-dir', root, '--json', ...args], o, actionsEnv(s), root), 0, o.err);
    assert.deepEqual((JSON.parse(o.out) as Doc).results[0]!.keyIds, [signer.keyId]);
  }
  // --keyless with a key is a contradiction.
  const both = capture();
  assert.equal(await main(['sign', 'postgres', '--integrations-dir', root, '--keyless', '--keys', keys, '--json'], both, actionsEnv(s), root), 2);
  assert.equal((JSON.parse(both.out) as Doc).error?.code, 'E_USAGE');
  // Outside Actions: a token file works with any issuer Fulcio trusts (here the second one).
  const tokenFile = path.join(root, 'token.jwt');
  await writeFile(tokenFile, `${s.token({ sub: 'release-bot@example.com', email: 'release-bot@example.com', email_verified: true }, { issuer: 'other' })}\n`);
  const env = { PROVENANT_FULCIO_URL: s.fulcioUrl, PROVENANT_REKOR_URL: s.rekorUrl };
  const o = capture();
  assert.equal(await main(['sign', 'postgres', '--integrations-dir', root, '--keyless', '--identity-token', tokenFile, '--tsa-url', s.tsaUrl, '--json'], o, env, root), 0, o.err);
  const r = (JSON.parse(o.out) as Doc).results[0]!;
  assert.equal(r.keyless?.subject, 'release-bot@example.com');
  assert.equal(r.keyless?.issuer, s.otherIssuer);
  const bundle = JSON.parse(await readFile(r.bundle.path, 'utf8')) as { verificationMaterial: { timestampVerificationData?: { rfc3161Timestamps: unknown[] } } };
  assert.equal(bundle.verificationMaterial.timestampVerificationData?.rfc3161Timestamps.length, 1, '--tsa-url adds an RFC 3161 timestamp');
});

test('keyless failures: no token, a token Fulcio refuses, Rekor unreachable: each its code and exit, the token never printed, nothing written', async (t) => {
  const s = await startSigstore(t);
  const { root, dist } = await builtInActions(t, s);
  const before = await readdir(dist);
  const pointerBefore = await readFile(path.join(dist, 'datadog-postgres-23.2.0.pointer'));
  const closedPort = await new Promise<number>((resolve) => {
    const srv = createServer().listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
  const base = { PROVENANT_FULCIO_URL: s.fulcioUrl, PROVENANT_REKOR_URL: s.rekorUrl };
  const expired = s.token(s.githubClaims(RUN), { expiresIn: -60 });
  const wrongAudience = s.token(s.githubClaims(RUN), { audience: 'not-sigstore' });
  const unverified = s.token({ sub: 'x', email: 'x@example.com', email_verified: false });
  const cases: [NodeJS.ProcessEnv, string, number, string | undefined][] = [
    [base, 'E_OIDC_TOKEN', 3, undefined],
    [{ ...base, SIGSTORE_ID_TOKEN: 'not a jwt' }, 'E_OIDC_TOKEN', 3, 'not a jwt'],
    // An unverified e-mail: Sigstore clients refuse to use it as the identity.
    // (@sigstore/sign's own message for it quotes the whole token.)
    [{ ...base, SIGSTORE_ID_TOKEN: unverified }, 'E_OIDC_TOKEN', 3, unverified],
    [{ ...base, SIGSTORE_ID_TOKEN: expired }, 'E_FULCIO', 6, expired],
    [{ ...base, SIGSTORE_ID_TOKEN: wrongAudience }, 'E_FULCIO', 6, wrongAudience],
    [{ ...base, PROVENANT_REKOR_URL: `http://127.0.0.1:${closedPort}`, SIGSTORE_ID_TOKEN: s.token(s.githubClaims(RUN)) }, 'E_REKOR', 6, undefined],
  ];
  for (const [env, code, exit, secret] of cases) {
    const o = capture();
    assert.equal(await main(['sign', 'postgres', '--integrations-dir', root, '--keyless', '--json'], o, env, root), exit, `${code}: ${o.err}`);
    assert.equal((JSON.parse(o.out) as Doc).error?.code, code, o.out);
    if (secret) assert.ok(!o.out.includes(secret) && !o.err.includes(secret), 'the token must not be printed');
    assert.deepEqual(await readdir(dist), before);
    assert.deepEqual(await readFile(path.join(dist, 'datadog-postgres-23.2.0.pointer')), pointerBefore);
  }
});
