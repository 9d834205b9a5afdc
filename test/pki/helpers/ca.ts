import { execFile } from 'node:child_process';
import { createPrivateKey, sign, X509Certificate, type KeyObject } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { preAuthEncoding } from '../../../src/formats/dsse.ts';
import { tempDir } from '../../helpers/peers.ts';

/**
 * An organization's X.509 PKI made in the test with the machine's `openssl` CLI (node:crypto
 * cannot issue certificates): a root, an intermediate under it, and leaves issued by `openssl ca`
 * (which, unlike `openssl x509` in 3.0, sets arbitrary validity dates).
 */
const run = promisify(execFile);

const CONFIG = `[ca]
default_ca = d
[d]
database = $ENV::CA_DIR/index.txt
new_certs_dir = $ENV::CA_DIR/new
serial = $ENV::CA_DIR/serial
default_md = sha256
policy = any
unique_subject = no
[any]
commonName = supplied
[ca_cert]
subjectKeyIdentifier = $ENV::INT_SKI
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
[ca_cert_constrained]
subjectKeyIdentifier = $ENV::INT_SKI
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
nameConstraints = critical,permitted;URI:.team-a.example
[leaf]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = codeSigning
subjectAltName = $ENV::SAN
[leaf_no_eku]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = $ENV::SAN
[leaf_ci]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = codeSigning
subjectAltName = $ENV::SAN
1.3.6.1.4.1.57264.1.12 = ASN1:UTF8String:$ENV::CI_REPOSITORY
1.3.6.1.4.1.57264.1.13 = ASN1:UTF8String:$ENV::CI_COMMIT
[leaf_any_eku]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = anyExtendedKeyUsage
subjectAltName = $ENV::SAN
[leaf_ca]
basicConstraints = critical,CA:TRUE
keyUsage = critical,digitalSignature,keyCertSign
extendedKeyUsage = codeSigning
subjectAltName = $ENV::SAN
`;

export interface Issued {
  pem: string;
  key: KeyObject;
}

export interface Pki {
  root: string;
  intermediate: string;
  /** The intermediate's subject key identifier (hex, colon-separated). */
  intermediateSki: string;
  /**
   * A leaf (default: issued by the intermediate, code signing, valid from an hour ago for a day).
   * `leaf_ci` also carries Fulcio's source repository URI and digest extensions (`ci`), as a CI's own CA may.
   */
  issue(o: { san: string; by?: 'intermediate' | 'root'; profile?: 'leaf' | 'leaf_no_eku' | 'leaf_any_eku' | 'leaf_ca' | 'leaf_ci'; ci?: { repository: string; commit: string }; start?: string; end?: string }): Promise<Issued>;
}

/** `openssl ca` dates: YYYYMMDDHHMMSSZ. */
export function caDate(d: Date): string {
  return `${d.toISOString().replace(/[-:T]/g, '').slice(0, 14)}Z`;
}

/**
 * `o.intermediateSki` forges the intermediate's subject key identifier (a look-alike of another
 * PKI's intermediate: same names, same key id, another key). `o.nameConstraints`: the intermediate
 * may only issue for URIs under `.team-a.example` (RFC 5280 name constraints).
 */
export async function makePki(t: { after(fn: () => unknown): void }, name = 'Example Corp', o: { intermediateSki?: string; nameConstraints?: boolean } = {}): Promise<Pki> {
  const dir = await tempDir(t, 'provenant-pki-');
  await mkdir(path.join(dir, 'new'));
  await writeFile(path.join(dir, 'index.txt'), '');
  await writeFile(path.join(dir, 'serial'), '1000\n');
  await writeFile(path.join(dir, 'ca.cnf'), CONFIG);
  const f = (n: string) => path.join(dir, n);
  const env = (san = 'URI:unused', ci = { repository: 'unused', commit: 'unused' }) => ({ ...process.env, CA_DIR: dir, SAN: san, INT_SKI: o.intermediateSki ?? 'hash', CI_REPOSITORY: ci.repository, CI_COMMIT: ci.commit });
  const newKey = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  await run('openssl', ['req', '-x509', ...newKey, '-keyout', f('root.key'), '-out', f('root.pem'), '-subj', `/O=${name}/CN=${name} Root`, '-days', '3650', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'], { env: env() });
  let serial = 0;
  const signCsr = async (subject: string, by: string, ext: string, san: string, start: string, end: string, ci?: { repository: string; commit: string }) => {
    const n = `c${++serial}`;
    await run('openssl', ['req', '-new', ...newKey, '-keyout', f(`${n}.key`), '-out', f(`${n}.csr`), '-subj', subject], { env: env(san) });
    await run('openssl', ['ca', '-batch', '-notext', '-config', f('ca.cnf'), '-cert', f(`${by}.pem`), '-keyfile', f(`${by}.key`), '-in', f(`${n}.csr`), '-out', f(`${n}.pem`), '-extensions', ext, '-startdate', start, '-enddate', end], { env: env(san, ci) });
    return n;
  };
  const hourAgo = caDate(new Date(Date.now() - 3600_000));
  const int = await signCsr(`/O=${name}/CN=${name} Signing Intermediate`, 'root', o.nameConstraints ? 'ca_cert_constrained' : 'ca_cert', 'URI:unused', hourAgo, caDate(new Date(Date.now() + 365 * 86400_000)));
  const pemOf = async (n: string) => new X509Certificate(await readFile(f(`${n}.pem`))).toString();
  const ski = (await run('openssl', ['x509', '-in', f(`${int}.pem`), '-noout', '-ext', 'subjectKeyIdentifier'])).stdout.split('\n')[1]!.trim();
  return {
    root: await pemOf('root'),
    intermediate: await pemOf(int),
    intermediateSki: ski,
    async issue(o) {
      const n = await signCsr(`/O=${name}/CN=release signer`, o.by === 'root' ? 'root' : int, o.profile ?? 'leaf', `URI:${o.san}`, o.start ?? hourAgo, o.end ?? caDate(new Date(Date.now() + 86400_000)), o.ci);
      return { pem: await pemOf(n), key: createPrivateKey(await readFile(f(`${n}.key`))) };
    },
  };
}

/** A Sigstore bundle v0.3 as an organization's signer would write it: the leaf certificate, one DSSE signature, no log entry. */
export function pkiBundle(statement: Uint8Array, signer: Issued, payloadType = 'application/vnd.in-toto+json'): Uint8Array {
  const sig = sign('sha256', preAuthEncoding(payloadType, statement), signer.key);
  return new TextEncoder().encode(
    JSON.stringify({
      mediaType: 'application/vnd.dev.sigstore.bundle.v0.3+json',
      verificationMaterial: { certificate: { rawBytes: new X509Certificate(signer.pem).raw.toString('base64') }, tlogEntries: [] },
      dsseEnvelope: { payload: Buffer.from(statement).toString('base64'), payloadType, signatures: [{ sig: sig.toString('base64'), keyid: '' }] },
    }),
  );
}
