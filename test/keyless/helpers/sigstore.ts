import { createHash, createPublicKey, generateKeyPairSync, randomUUID, sign as cryptoSign, verify as cryptoVerify, X509Certificate, type KeyObject } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fulcioHandler, initializeCA, initializeCTLog, initializeTLog, initializeTSA, rekorHandler, tsaHandler, type HandlerFn } from '@sigstore/mock';
import { preAuthEncoding } from '../../../src/formats/dsse.ts';

/**
 * A private Sigstore instance on loopback, per test: @sigstore/mock's Fulcio, Rekor and TSA
 * handlers behind REAL HTTP servers, and a test OIDC issuer whose JWTs are signed with a key
 * made for this instance. Where the mock is laxer than the real services, the server in front
 * of it does what the real one does, so signing meets the same refusals:
 * - Fulcio verifies the token (signature against the issuer's JWKS found by OIDC discovery,
 *   issuer allowed, audience `sigstore`, not expired) before the mock issues a certificate;
 * - Rekor verifies the DSSE signature with the submitted certificate, and logs the entry in
 *   its canonical form (envelopeHash, payloadHash, signatures) as Rekor's dsse type does,
 *   where the mock would log the proposed entry as sent.
 */
export interface GitHubClaims {
  repository: string;
  ref: string;
  sha: string;
  workflow: string;
  /** `owner/repo/.github/workflows/file.yml@ref` */
  workflowRef: string;
  runnerEnvironment?: string;
  runId?: string;
}

export interface SigstoreInstance {
  issuer: string;
  /** A second issuer this Fulcio also trusts (its own signing key): certificates that name another issuer. */
  otherIssuer: string;
  fulcioUrl: string;
  rekorUrl: string;
  tsaUrl: string;
  /** protobuf-specs TrustedRoot (JSON) for this instance: its CA, Rekor key, CT log and TSA. */
  trustedRoot: Record<string, unknown>;
  trustedRootBytes: Uint8Array;
  /** sigstore-python's ClientTrustConfig for this instance (`sigstore --trust-config`). */
  clientTrustConfig(): Record<string, unknown>;
  /** A JWT from this issuer (audience sigstore, valid 5 minutes) with these claims. */
  token(claims: Record<string, unknown>, opts?: { audience?: string; expiresIn?: number; key?: KeyObject; issuer?: 'other' }): string;
  /** Moves Fulcio's (and its CT log's) clock by `ms` from now, for the certificates issued next. */
  setCaOffset(ms: number): void;
  /**
   * The TSA stamps whole seconds (see below); this sets the milliseconds it adds instead, e.g.
   * 120, which DER encodes as `.12`: a GeneralizedTime @sigstore/core cannot parse.
   */
  setTsaMillis(ms: number): void;
  /** Claims as GitHub Actions' issuer sets them; `sub` is the SAN the certificate gets. */
  githubClaims(c: GitHubClaims): Record<string, unknown>;
  /** GitHub Actions' token endpoint (ACTIONS_ID_TOKEN_REQUEST_URL/TOKEN) handing out tokens with `claims`. */
  githubActionsEnv(claims: Record<string, unknown>): { ACTIONS_ID_TOKEN_REQUEST_URL: string; ACTIONS_ID_TOKEN_REQUEST_TOKEN: string };
  /** Requests each service answered, by path. */
  requests: string[];
}


const SIGSTORE_AUDIENCE = 'sigstore';

function b64(b: ArrayBufferView | Buffer): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('base64');
}

function b64url(x: Buffer | string): string {
  return Buffer.from(x).toString('base64url');
}

function p256(): { publicKey: KeyObject; privateKey: KeyObject } {
  return generateKeyPairSync('ec', { namedCurve: 'P-256' });
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

type Route = (req: IncomingMessage, body: string, url: URL) => Promise<{ status: number; body: string | Uint8Array; type?: string }>;

async function listen(t: { after(fn: () => unknown): void }, routes: Record<string, Route>, requests: string[]): Promise<string> {
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://x');
      requests.push(`${req.method} ${url.pathname}`);
      const route = routes[`${req.method} ${url.pathname}`];
      if (!route) {
        res.writeHead(404).end();
        return;
      }
      try {
        const r = await route(req, await readBody(req), url);
        res.writeHead(r.status, { 'content-type': r.type ?? 'application/json' }).end(r.body);
      } catch (e) {
        res.writeHead(500, { 'content-type': 'text/plain' }).end((e as Error).message);
      }
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function mockRoute(fn: HandlerFn): Route {
  return async (_req, body) => {
    const r = await fn(body);
    return { status: r.statusCode, body: typeof r.response === 'string' ? r.response : Buffer.from(r.response.buffer, r.response.byteOffset, r.response.byteLength), type: r.contentType ?? 'text/plain' };
  };
}

/** Decodes a JWT without checking it: only to find its issuer before the check. */
function jwtParts(token: string): { header: Record<string, unknown>; payload: Record<string, unknown>; signingInput: string; signature: Buffer } {
  const [h, p, s] = token.split('.');
  if (h === undefined || p === undefined || s === undefined) throw new Error('not a JWT');
  return { header: JSON.parse(Buffer.from(h, 'base64url').toString()), payload: JSON.parse(Buffer.from(p, 'base64url').toString()), signingInput: `${h}.${p}`, signature: Buffer.from(s, 'base64url') };
}

/** What Fulcio does before issuing: OIDC discovery of the token's issuer, then the JWT checks. */
async function verifyIdentityToken(token: string, allowedIssuers: string[]): Promise<string | undefined> {
  let jwt;
  try {
    jwt = jwtParts(token);
  } catch {
    return 'malformed token';
  }
  const iss = jwt.payload.iss;
  if (typeof iss !== 'string' || !allowedIssuers.includes(iss)) return `issuer ${String(iss)} is not trusted`;
  const discovery = (await (await fetch(`${iss}/.well-known/openid-configuration`)).json()) as { jwks_uri: string; issuer: string };
  if (discovery.issuer !== iss) return 'discovery issuer mismatch';
  const jwks = (await (await fetch(discovery.jwks_uri)).json()) as { keys: (Record<string, unknown> & { kid: string })[] };
  const jwk = jwks.keys.find((k) => k.kid === jwt.header.kid);
  if (!jwk || jwt.header.alg !== 'ES256') return 'unknown signing key';
  const key = createPublicKey({ key: jwk, format: 'jwk' });
  if (!cryptoVerify('sha256', Buffer.from(jwt.signingInput), { key, dsaEncoding: 'ieee-p1363' }, jwt.signature)) return 'bad token signature';
  const aud = jwt.payload.aud;
  if (!(aud === SIGSTORE_AUDIENCE || (Array.isArray(aud) && aud.includes(SIGSTORE_AUDIENCE)))) return 'audience is not sigstore';
  if (typeof jwt.payload.exp !== 'number' || jwt.payload.exp * 1000 < Date.now()) return 'token expired';
  return undefined;
}

/** Rekor's dsse v0.0.1 entry as Rekor stores it (pkg/types/dsse/v0.0.1), after checking the signature. */
function canonicalDsseEntry(proposed: { kind?: string; apiVersion?: string; spec?: { proposedContent?: { envelope?: string; verifiers?: string[] } } }): object {
  const content = proposed.spec?.proposedContent;
  if (proposed.kind !== 'dsse' || proposed.apiVersion !== '0.0.1' || !content?.envelope || content.verifiers?.length !== 1) throw new Error('only dsse 0.0.1 entries with one verifier');
  const env = JSON.parse(content.envelope) as { payload: string; payloadType: string; signatures: { sig: string }[] };
  const cert = new X509Certificate(Buffer.from(content.verifiers[0]!, 'base64').toString());
  const key = cert.publicKey;
  // Rekor stores the verifier re-encoded canonically (Go's pem.Encode: 64-character lines).
  const verifier = Buffer.from(cert.toString()).toString('base64');
  const payload = Buffer.from(env.payload, 'base64');
  for (const s of env.signatures) {
    if (!cryptoVerify('sha256', preAuthEncoding(env.payloadType, payload), key, Buffer.from(s.sig, 'base64'))) throw new Error('signature does not verify');
  }
  const sha256 = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');
  return {
    apiVersion: '0.0.1',
    kind: 'dsse',
    spec: {
      envelopeHash: { algorithm: 'sha256', value: sha256(content.envelope) },
      payloadHash: { algorithm: 'sha256', value: sha256(payload) },
      signatures: env.signatures.map((s) => ({ signature: s.sig, verifier })),
    },
  };
}

export async function startSigstore(t: { after(fn: () => unknown): void }): Promise<SigstoreInstance> {
  const requests: string[] = [];
  const oidcKey = p256();
  const otherKey = p256();
  const kid = randomUUID();
  const otherKid = randomUUID();
  const ghBearer = randomUUID();
  let ghClaims: Record<string, unknown> | undefined;
  const issuerRoutes: Record<string, Route> = {};
  const issuerBase = await listen(t, issuerRoutes, requests);
  const issuer = `${issuerBase}/oidc`;
  const otherIssuer = `${issuerBase}/other-oidc`;
  const token: SigstoreInstance['token'] = (claims, o = {}) => {
    const now = Math.floor(Date.now() / 1000);
    const other = o.issuer === 'other';
    const header = b64url(JSON.stringify({ alg: 'ES256', typ: 'JWT', kid: other ? otherKid : kid }));
    const payload = b64url(JSON.stringify({ iss: other ? otherIssuer : issuer, aud: o.audience ?? SIGSTORE_AUDIENCE, iat: now, nbf: now, exp: now + (o.expiresIn ?? 300), ...claims }));
    const sig = cryptoSign('sha256', Buffer.from(`${header}.${payload}`), { key: o.key ?? (other ? otherKey : oidcKey).privateKey, dsaEncoding: 'ieee-p1363' });
    return `${header}.${payload}.${b64url(sig)}`;
  };
  const discovery = (iss: string) => async () => ({ status: 200, body: JSON.stringify({ issuer: iss, jwks_uri: `${iss}/jwks`, id_token_signing_alg_values_supported: ['ES256'] }) });
  const jwks = (key: KeyObject, id: string) => async () => ({ status: 200, body: JSON.stringify({ keys: [{ ...key.export({ format: 'jwk' }), kid: id, alg: 'ES256', use: 'sig' }] }) });
  Object.assign(issuerRoutes, {
    'GET /oidc/.well-known/openid-configuration': discovery(issuer),
    'GET /oidc/jwks': jwks(oidcKey.publicKey, kid),
    'GET /other-oidc/.well-known/openid-configuration': discovery(otherIssuer),
    'GET /other-oidc/jwks': jwks(otherKey.publicKey, otherKid),
    // GitHub Actions' runner token endpoint: bearer-authorised, audience from the query.
    'GET /github/token': async (req: IncomingMessage, _body: string, url: URL) => {
      if (req.headers.authorization !== `Bearer ${ghBearer}` || !ghClaims) return { status: 401, body: '{"message":"bad bearer"}' };
      return { status: 200, body: JSON.stringify({ value: token(ghClaims, { audience: url.searchParams.get('audience') ?? 'missing' }) }) };
    },
  } satisfies Record<string, Route>);

  // The mock reads its clock from this Date on every certificate; it is set before each request.
  const caClock = new Date();
  let caOffsetMs = 0;
  const ctLog = await initializeCTLog(p256(), caClock);
  const ca = await initializeCA(p256(), ctLog, caClock);
  // Whole seconds: the mock encodes milliseconds as DER wants (trailing zeros dropped, `.12`),
  // and @sigstore/core only parses three digits; one run in ten would fail on it otherwise.
  const tsaClock = new Date();
  let tsaMillis = 0;
  const tsa = await initializeTSA(p256(), tsaClock);
  const fulcio = fulcioHandler(ca);
  const fulcioUrl = await listen(
    t,
    {
      [`POST ${fulcio.path}`]: async (req, body) => {
        const oidc = (JSON.parse(body) as { credentials?: { oidcIdentityToken?: string } }).credentials?.oidcIdentityToken ?? '';
        const why = await verifyIdentityToken(oidc, [issuer, otherIssuer]);
        if (why) return { status: 401, body: JSON.stringify({ code: 16, message: `invalid identity token: ${why}` }) };
        caClock.setTime(Date.now() + caOffsetMs);
        return mockRoute(fulcio.fn)(req, body, new URL('http://x'));
      },
    },
    requests,
  );
  const rekorRoutes: Record<string, Route> = {};
  const rekorUrl = await listen(t, rekorRoutes, requests);
  const tlog = await initializeTLog(rekorUrl, p256());
  const rekor = rekorHandler(tlog);
  rekorRoutes[`POST ${rekor.path}`] = async (req, body, url) => {
    let canonical: object;
    try {
      canonical = canonicalDsseEntry(JSON.parse(body));
    } catch (e) {
      return { status: 400, body: JSON.stringify({ code: 400, message: (e as Error).message }) };
    }
    return mockRoute(rekor.fn)(req, JSON.stringify(canonical), url);
  };
  const ts = tsaHandler(tsa);
  const tsaUrl = await listen(
    t,
    {
      [`POST ${ts.path}`]: async (req, body, url) => {
        tsaClock.setTime(Math.floor(Date.now() / 1000) * 1000 + tsaMillis);
        return mockRoute(ts.fn)(req, body, url);
      },
    },
    requests,
  );

  // Valid from a day back: the tests that move Fulcio's clock still chain to this CA.
  const start = new Date(Date.now() - 24 * 3600 * 1000).toISOString();
  const sha256b64 = (b: Buffer) => createHash('sha256').update(b).digest('base64');
  const trustedRoot = {
    mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
    tlogs: [{ baseUrl: rekorUrl, hashAlgorithm: 'SHA2_256', publicKey: { rawBytes: b64(tlog.publicKey), keyDetails: 'PKIX_ECDSA_P256_SHA_256', validFor: { start } }, logId: { keyId: sha256b64(tlog.publicKey) } }],
    certificateAuthorities: [
      { subject: { organization: 'sigstore.mock', commonName: 'sigstore' }, uri: fulcioUrl, certChain: { certificates: [{ rawBytes: b64(ca.rootCertificate) }] }, validFor: { start } },
    ],
    ctlogs: [
      {
        baseUrl: 'https://ctfe.test.invalid',
        hashAlgorithm: 'SHA2_256',
        publicKey: { rawBytes: b64(ctLog.publicKey), keyDetails: 'PKIX_ECDSA_P256_SHA_256', validFor: { start } },
        logId: { keyId: b64(ctLog.logID) },
      },
    ],
    timestampAuthorities: [
      {
        subject: { organization: 'sigstore.mock', commonName: 'sigstore-tsa' },
        uri: tsaUrl,
        certChain: { certificates: [{ rawBytes: b64(tsa.intCertificate) }, { rawBytes: b64(tsa.rootCertificate) }] },
        validFor: { start },
      },
    ],
  };
  const service = (url: string) => ({ url, majorApiVersion: 1, validFor: { start }, operator: 'provenant-test' });
  return {
    issuer,
    otherIssuer,
    setCaOffset: (ms) => void (caOffsetMs = ms),
    setTsaMillis: (ms) => void (tsaMillis = ms),
    fulcioUrl,
    rekorUrl,
    tsaUrl,
    trustedRoot,
    trustedRootBytes: new TextEncoder().encode(`${JSON.stringify(trustedRoot, null, 2)}\n`),
    clientTrustConfig: () => ({
      mediaType: 'application/vnd.dev.sigstore.clienttrustconfig.v0.1+json',
      trustedRoot,
      signingConfig: {
        mediaType: 'application/vnd.dev.sigstore.signingconfig.v0.2+json',
        caUrls: [service(fulcioUrl)],
        oidcUrls: [service(issuer)],
        rekorTlogUrls: [service(rekorUrl)],
        tsaUrls: [service(`${tsaUrl}/api/v1/timestamp`)],
        rekorTlogConfig: { selector: 'ANY' },
        tsaConfig: { selector: 'ANY' },
      },
    }),
    token,
    githubClaims: (c) => ({
      sub: `https://github.com/${c.workflowRef}`,
      repository: c.repository,
      repository_owner: c.repository.split('/')[0],
      ref: c.ref,
      sha: c.sha,
      workflow: c.workflow,
      workflow_ref: c.workflowRef,
      workflow_sha: c.sha,
      job_workflow_ref: c.workflowRef,
      job_workflow_sha: c.sha,
      event_name: 'workflow_dispatch',
      runner_environment: c.runnerEnvironment ?? 'github-hosted',
      run_id: c.runId ?? '4242',
      run_attempt: '1',
    }),
    githubActionsEnv: (claims) => {
      ghClaims = claims;
      return { ACTIONS_ID_TOKEN_REQUEST_URL: `${issuerBase}/github/token?api-version=2.0`, ACTIONS_ID_TOKEN_REQUEST_TOKEN: ghBearer };
    },
    requests,
  };
}
