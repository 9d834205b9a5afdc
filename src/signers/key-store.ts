import { parseJsonDocument } from '../util/json-document.ts';
import { chmod, readFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { ProvenantError } from '../errors.ts';
import { writeFileAtomic } from '../util/atomic-write.ts';
import { ensureKeyStoreDir, KEY_INDEX_FILE, requireKeyStore } from './key-store-location.ts';
import { exportPrivateKeyPem, generatePrivateKey, keyIdOf, keyObjectSigner, readPrivateKeyPem, tufPublicKey } from './key-file.ts';
import type { KeyType, Signer } from './signer.ts';

/**
 * The key store: a directory (default `./keys`, never inside the repository) holding one
 * PKCS#8 PEM file per key (`<name>.pem`, mode 0600) and `keys.json`, an index with each key's
 * public half, key id and role assignments, so keys can be matched to roles without decrypting
 * them. Passphrases never touch disk: they come from the environment (docs/keys.md).
 */
export { checkKeysOutsideRepository, KEY_INDEX_FILE } from './key-store-location.ts';
export const PASSPHRASE_ENV = 'PROVENANT_KEY_PASSPHRASE';

const KEY_NAME = /^[a-z0-9][a-z0-9-]{0,63}$/;

const KeyEntrySchema = z.object({
  file: z.string().regex(/^[a-z0-9][a-z0-9-]*\.pem$/),
  keyid: z.string().regex(/^[0-9a-f]{64}$/),
  keytype: z.enum(['ed25519', 'ecdsa']),
  scheme: z.enum(['ed25519', 'ecdsa-sha2-nistp256']),
  public: z.string().min(1),
  encrypted: z.boolean(),
  /** What this key is for: TUF roles (`root`, `targets`, `bins`, `snapshot`, `timestamp`) or `attestation`. */
  roles: z.array(z.string().min(1)),
});

const KeyIndexSchema = z.object({
  keystoreVersion: z.literal(1),
  keys: z.record(z.string().regex(KEY_NAME), KeyEntrySchema),
});

export type KeyEntry = z.infer<typeof KeyEntrySchema>;
export type KeyIndex = z.infer<typeof KeyIndexSchema>;

export async function readKeyIndex(keysDir: string): Promise<KeyIndex> {
  const file = path.join(keysDir, KEY_INDEX_FILE);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { keystoreVersion: 1, keys: {} };
    throw e;
  }
  return parseJsonDocument(KeyIndexSchema, text, { code: 'E_KEYSTORE_INVALID', what: 'key index', file, hint: 'see docs/keys.md for the format of keys.json' });
}

/** Environment variables consulted for a key's passphrase, most specific first. */
export function passphraseEnvNames(name: string): string[] {
  return [`${PASSPHRASE_ENV}_${name.toUpperCase().replace(/[^A-Z0-9]/g, '_')}`, PASSPHRASE_ENV];
}

export function passphraseFor(name: string, env: NodeJS.ProcessEnv): string | undefined {
  for (const v of passphraseEnvNames(name)) {
    const p = env[v];
    if (p !== undefined && p !== '') return p;
  }
  return undefined;
}

export interface NewKeyOptions {
  type: KeyType;
  roles: string[];
  /** Encrypts the PEM when set. */
  passphrase?: string | undefined;
}

/** Generates a key, writes `<name>.pem` (0600) and records it in keys.json. Refuses to overwrite. */
export async function createKey(keysDir: string, name: string, opts: NewKeyOptions): Promise<KeyEntry & { name: string }> {
  if (!KEY_NAME.test(name)) throw new ProvenantError('E_KEY_NAME', `invalid key name ${JSON.stringify(name)}`, {
      exitClass: 'usage',
      hint: 'key names are lowercase letters, digits and dashes, up to 64 characters',
    });
  await ensureKeyStoreDir(keysDir);
  const index = await readKeyIndex(keysDir);
  if (index.keys[name]) {
    throw new ProvenantError('E_KEY_EXISTS', `a key named ${name} already exists`, {
      file: path.join(keysDir, KEY_INDEX_FILE),
      hint: 'pick another name or use the existing key',
    });
  }
  const key = generatePrivateKey(opts.type);
  const pub = tufPublicKey(key);
  const entry: KeyEntry = {
    file: `${name}.pem`,
    keyid: keyIdOf(pub),
    keytype: pub.keytype,
    scheme: pub.scheme,
    public: pub.keyval.public,
    encrypted: Boolean(opts.passphrase),
    roles: [...opts.roles],
  };
  const pemFile = path.join(keysDir, entry.file);
  await writeFileAtomic(pemFile, exportPrivateKeyPem(key, opts.passphrase), 0o600);
  await chmod(pemFile, 0o600);
  index.keys[name] = entry;
  await writeKeyIndex(keysDir, index);
  return { name, ...entry };
}

async function writeKeyIndex(keysDir: string, index: KeyIndex): Promise<void> {
  await writeFileAtomic(path.join(keysDir, KEY_INDEX_FILE), `${JSON.stringify(KeyIndexSchema.parse(index), null, 2)}\n`, 0o600);
}

/** Adds roles to an existing key's assignments (e.g. reusing keys for a fresh repository). */
export async function assignRoles(keysDir: string, name: string, roles: string[]): Promise<void> {
  const index = await readKeyIndex(keysDir);
  const entry = index.keys[name];
  if (!entry) throw missingKey(keysDir, `key ${name}`, `no key named ${name} in the key store`);
  entry.roles = [...new Set([...entry.roles, ...roles])].sort();
  await writeKeyIndex(keysDir, index);
}

/**
 * The signer of one named key (e.g. `attestation`). Reads the PEM, decrypting with the
 * passphrase from `env` (docs/keys.md), and checks it is the key keys.json records.
 */
export async function loadSigner(keysDir: string, name: string, env: NodeJS.ProcessEnv = process.env): Promise<Signer> {
  await requireKeyStore(keysDir);
  const index = await readKeyIndex(keysDir);
  const entry = index.keys[name];
  if (!entry) throw missingKey(keysDir, name, `no key named ${name} in ${path.join(keysDir, KEY_INDEX_FILE)}`);
  return loadEntry(keysDir, name, entry, env);
}

async function loadEntry(keysDir: string, name: string, entry: KeyEntry, env: NodeJS.ProcessEnv, role?: string): Promise<Signer> {
  const file = path.join(keysDir, entry.file);
  let pem: string;
  try {
    pem = await readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
      const forWhat = role ?? (entry.roles.join(', ') || name);
      throw missingKey(keysDir, forWhat, `key file ${entry.file} (key ${name}, needed for role ${forWhat}) is missing`, file);
    }
    throw e;
  }
  const hint = `set ${passphraseEnvNames(name).join(' or ')} to the key's passphrase`;
  const signer = keyObjectSigner(readPrivateKeyPem(pem, file, passphraseFor(name, env), hint));
  if (signer.keyId !== entry.keyid) {
    throw new ProvenantError('E_KEY_MISMATCH', `key file holds key ${signer.keyId}, but keys.json records ${entry.keyid}`, {
      file,
      hint: 'the key file was replaced; restore it from your backup',
    });
  }
  return signer;
}

/**
 * Signers for a role: the store's keys whose key ids the repository trusts for it, loaded until
 * `threshold` are at hand. Fewer than that is E_KEY_MISSING naming the role; keys assigned to the
 * role that the repository does not trust (another repository's key store) are named in it.
 */
export async function signersForRole(
  keysDir: string,
  role: string,
  trustedKeyIds: readonly string[],
  threshold: number,
  env: NodeJS.ProcessEnv = process.env,
): Promise<Signer[]> {
  await requireKeyStore(keysDir);
  const index = await readKeyIndex(keysDir);
  const trusted = new Set(trustedKeyIds);
  const signers: Signer[] = [];
  for (const [name, entry] of Object.entries(index.keys).sort(([a], [b]) => a.localeCompare(b))) {
    if (signers.length >= threshold) break;
    if (trusted.has(entry.keyid) && !signers.some((s) => s.keyId === entry.keyid)) signers.push(await loadEntry(keysDir, name, entry, env, role));
  }
  if (signers.length >= threshold) return signers;
  const untrusted = Object.entries(index.keys)
    .filter(([, e]) => e.roles.includes(role) && !trusted.has(e.keyid))
    .map(([n, e]) => `${n} (${e.keyid.slice(0, 12)}…)`);
  if (untrusted.length > 0) {
    throw new ProvenantError(
      'E_KEY_UNKNOWN',
      `role ${role} needs ${threshold} of the keys the repository trusts (${shortIds(trustedKeyIds)}); the key store's ${role} key(s) ${untrusted.join(', ')} are not among them`,
      {
        exitClass: 'verification',
        file: path.join(keysDir, KEY_INDEX_FILE),
        hint: 'point --keys at the key store this repository was created with',
      },
    );
  }
  throw missingKey(
    keysDir,
    role,
    `role ${role} needs ${threshold} signing key(s) among ${shortIds(trustedKeyIds)}; the key store has ${signers.length}`,
  );
}

function shortIds(ids: readonly string[]): string {
  return ids.map((k) => `${k.slice(0, 12)}…`).join(', ') || 'none';
}

function missingKey(keysDir: string, role: string, message: string, file?: string): ProvenantError {
  return new ProvenantError('E_KEY_MISSING', message, {
    exitClass: 'input',
    file: file ?? path.join(keysDir, KEY_INDEX_FILE),
    field: role,
    hint: `put the key(s) for ${role} into ${keysDir} (or pass --keys DIR); see docs/keys.md`,
  });
}
