import { parseJsonDocument } from '../util/json-document.ts';
import { chmod, readFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { ProvenantError } from '../errors.ts';
import { writeFileAtomic } from '../util/atomic-write.ts';
import { ensureKeyStoreDir, KEY_INDEX_FILE, requireKeyStore } from './key-store-location.ts';
import { exportPrivateKeyPem, generatePrivateKey, keyIdOf, tufPublicKey } from './key-file.ts';
import { assertNoSecret, describeKeyRef, parseKeyRef } from './key-ref.ts';
import { openSigner } from './open-signer.ts';
import type { KeyType, Signer } from './signer.ts';

/**
 * The key store: a directory (default `./keys`, never inside the repository) holding
 * `keys.json`, an index with each key's public half, key id and role assignments, so keys can be
 * matched to roles without opening them, and the keys themselves: a PKCS#8 PEM file per key
 * (`<name>.pem`, mode 0600), or a key reference (`pkcs11:`, `awskms://`, a path) to a key that
 * stays on its device. Passphrases and PINs never touch disk: they come from the environment or
 * a pin-source file (docs/keys.md).
 */
export { checkKeysOutsideRepository, KEY_INDEX_FILE } from './key-store-location.ts';
export { PASSPHRASE_ENV, passphraseEnvNames, passphraseFor } from './key-file.ts';

const KEY_NAME = /^[a-z0-9][a-z0-9-]{0,63}$/;

const KeyEntrySchema = z
  .object({
    /** A PEM file in the store, written by provenant. */
    file: z.string().regex(/^[a-z0-9][a-z0-9-]*\.pem$/).optional(),
    /** Or a key reference (key-ref.ts); a relative path is relative to the store. */
    ref: z.string().min(1).optional(),
    keyid: z.string().regex(/^[0-9a-f]{64}$/),
    keytype: z.enum(['ed25519', 'ecdsa']),
    scheme: z.enum(['ed25519', 'ecdsa-sha2-nistp256', 'ecdsa-sha2-nistp384']),
    public: z.string().min(1),
    /** Whether the PEM file is passphrase-encrypted (files only). */
    encrypted: z.boolean().default(false),
    /** What this key is for: TUF roles (`root`, `targets`, `bins`, `snapshot`, `timestamp`) or `attestation`. */
    roles: z.array(z.string().min(1)),
  })
  .refine((e) => (e.file === undefined) !== (e.ref === undefined), { message: 'each key has exactly one of "file" or "ref"', path: ['ref'] });

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

export interface NewKeyOptions {
  type: KeyType;
  roles: string[];
  /** Encrypts the PEM when set. */
  passphrase?: string | undefined;
}

/** Generates a key, writes `<name>.pem` (0600) and records it in keys.json. Refuses to overwrite. */
export async function createKey(keysDir: string, name: string, opts: NewKeyOptions): Promise<KeyEntry & { name: string; file: string }> {
  const index = await newKeyIndex(keysDir, name);
  const key = generatePrivateKey(opts.type);
  const pub = tufPublicKey(key);
  const entry: KeyEntry & { file: string } = {
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

/** A key that stays on its device (or in a file elsewhere), opened, to be recorded under `name`. */
export interface KeyRefRecord {
  name: string;
  ref: string;
  signer: Signer;
  roles: string[];
}

/**
 * Records keys by reference: keys.json gets each reference and the public key its signer read
 * from the device. All or none: a taken name or a reference carrying a PIN records nothing.
 */
export async function recordKeyRefs(keysDir: string, records: readonly KeyRefRecord[]): Promise<void> {
  for (const r of records) assertNoSecret(parseKeyRef(r.ref), `keys.${r.name}.ref`);
  let index: KeyIndex | undefined;
  for (const r of records) {
    index = await newKeyIndex(keysDir, r.name, index);
    index.keys[r.name] = {
      ref: r.ref,
      keyid: r.signer.keyId,
      keytype: r.signer.publicKey.keytype,
      scheme: r.signer.publicKey.scheme,
      public: r.signer.publicKey.keyval.public,
      encrypted: false,
      roles: [...r.roles],
    };
  }
  if (index) await writeKeyIndex(keysDir, index);
}

/** The index (read, or the one given), checked to have no key called `name` yet; the store directory is created if needed. */
async function newKeyIndex(keysDir: string, name: string, current?: KeyIndex): Promise<KeyIndex> {
  if (!KEY_NAME.test(name)) {
    throw new ProvenantError('E_KEY_NAME', `invalid key name ${JSON.stringify(name)}`, {
      exitClass: 'usage',
      hint: 'key names are lowercase letters, digits and dashes, up to 64 characters',
    });
  }
  await ensureKeyStoreDir(keysDir);
  const index = current ?? (await readKeyIndex(keysDir));
  if (index.keys[name]) {
    throw new ProvenantError('E_KEY_EXISTS', `a key named ${name} already exists`, {
      file: path.join(keysDir, KEY_INDEX_FILE),
      hint: 'pick another name or use the existing key',
    });
  }
  return index;
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
 * The signer of one named key (e.g. `attestation`): its PEM file, decrypted with the passphrase
 * from `env`, or the device key its reference names (docs/keys.md). Either way it must be the
 * key keys.json records. Close it when done (device keys hold a session).
 */
export async function loadSigner(keysDir: string, name: string, env: NodeJS.ProcessEnv = process.env): Promise<Signer> {
  await requireKeyStore(keysDir);
  const index = await readKeyIndex(keysDir);
  const entry = index.keys[name];
  if (!entry) throw missingKey(keysDir, name, `no key named ${name} in ${path.join(keysDir, KEY_INDEX_FILE)}`);
  return loadEntry(keysDir, name, entry, env);
}

async function loadEntry(keysDir: string, name: string, entry: KeyEntry, env: NodeJS.ProcessEnv, role?: string): Promise<Signer> {
  const forWhat = role ?? (entry.roles.join(', ') || name);
  const where = entry.ref === undefined ? path.join(keysDir, entry.file!) : describeKeyRef(parseKeyRef(entry.ref, `keys.${name}.ref`));
  let signer: Signer;
  try {
    signer = await openSigner(entry.ref ?? entry.file!, { env, cwd: keysDir, keyName: name, field: `keys.${name}.ref` });
  } catch (e) {
    if (e instanceof ProvenantError && e.code === 'E_KEY_MISSING' && entry.file !== undefined) {
      throw missingKey(keysDir, forWhat, `key file ${entry.file} (key ${name}, needed for role ${forWhat}) is missing`, where);
    }
    throw e;
  }
  if (signer.keyId !== entry.keyid) {
    await signer.close?.();
    // A device key that changed is as wrong as a replaced file: the role's metadata trusts the recorded key.
    throw new ProvenantError('E_KEY_MISMATCH', `key ${name} (for ${forWhat}) at ${where} is ${signer.keyId}, but keys.json records ${entry.keyid}`, {
      file: entry.ref === undefined ? where : path.join(keysDir, KEY_INDEX_FILE),
      field: forWhat,
      hint:
        entry.ref === undefined
          ? 'the key file was replaced; restore it from your backup'
          : 'the reference now names another key (a regenerated token key, a moved alias): point it back at the key the repository trusts, or rotate the role\'s key',
    });
  }
  return signer;
}

/** Opens a key of the store for a role; see `cachingKeyOpener`. */
export type KeyOpener = (name: string, entry: KeyEntry, role: string) => Promise<Signer>;

/**
 * An opener that opens each key once (bins, snapshot and timestamp usually share the online
 * key: one device session and one probe, not three) and closes them all at the end.
 */
export function cachingKeyOpener(keysDir: string, env: NodeJS.ProcessEnv): { open: KeyOpener; close(): Promise<void> } {
  const opened = new Map<string, Promise<Signer>>();
  return {
    open(name, entry, role) {
      let p = opened.get(name);
      if (!p) {
        p = loadEntry(keysDir, name, entry, env, role);
        opened.set(name, p);
        p.catch(() => opened.delete(name));
      }
      return p;
    },
    async close() {
      const all = await Promise.allSettled(opened.values());
      opened.clear();
      await closeAll(all.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : [])));
    },
  };
}

/**
 * Signers for a role: the store's keys whose key ids the repository trusts for it, opened until
 * `threshold` are at hand. Fewer than that is E_KEY_MISSING naming the role; keys assigned to the
 * role that the repository does not trust (another repository's key store) are named in it.
 * Without `open`, the signers are the caller's to close.
 */
export async function signersForRole(
  keysDir: string,
  role: string,
  trustedKeyIds: readonly string[],
  threshold: number,
  env: NodeJS.ProcessEnv = process.env,
  open?: KeyOpener,
): Promise<Signer[]> {
  await requireKeyStore(keysDir);
  const index = await readKeyIndex(keysDir);
  const trusted = new Set(trustedKeyIds);
  const signers: Signer[] = [];
  // Signers opened here for a caller without an opener are closed again when the role cannot be signed.
  const discard = () => (open ? Promise.resolve() : closeAll(signers));
  try {
    for (const [name, entry] of Object.entries(index.keys).sort(([a], [b]) => a.localeCompare(b))) {
      if (signers.length >= threshold) break;
      if (trusted.has(entry.keyid) && !signers.some((s) => s.keyId === entry.keyid)) {
        signers.push(await (open ? open(name, entry, role) : loadEntry(keysDir, name, entry, env, role)));
      }
    }
  } catch (e) {
    await discard();
    throw e;
  }
  if (signers.length >= threshold) return signers;
  await discard();
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

/** Closes device signers (file signers hold nothing). */
export async function closeAll(signers: readonly Signer[]): Promise<void> {
  await Promise.all(signers.map((s) => s.close?.()));
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
