import path from 'node:path';
import { openAwsKmsKey } from './aws-kms.ts';
import { deviceSigner } from './device-signer.ts';
import { openKeyFile } from './key-file.ts';
import { parseKeyRef, type KeyRef } from './key-ref.ts';
import { openPkcs11Key } from './pkcs11.ts';
import type { Signer } from './signer.ts';

export interface OpenSignerOptions {
  env: NodeJS.ProcessEnv;
  /** Base for a relative file path or pin-source. */
  cwd: string;
  /** The key store's name for the key: picks its passphrase and PIN variables. Default: the file's base name. */
  keyName?: string;
  /** Where the reference came from (a flag, a keys.json field), for parse errors. */
  field?: string;
}

/**
 * The one way to open a key reference (key-ref.ts): a PEM file is read here; a token or KMS key
 * stays on its device and proves it can sign before this returns (device-signer.ts). Close
 * device signers when done.
 */
export async function openSigner(ref: string | KeyRef, opts: OpenSignerOptions): Promise<Signer> {
  const r = typeof ref === 'string' ? parseKeyRef(ref, opts.field) : ref;
  switch (r.kind) {
    case 'file': {
      const file = path.resolve(opts.cwd, r.path);
      return openKeyFile(file, opts.keyName ?? path.basename(file).replace(/\.pem$/, ''), opts.env);
    }
    case 'pkcs11':
      return deviceSigner(await openPkcs11Key(r, { env: opts.env, cwd: opts.cwd, ...(opts.keyName ? { keyName: opts.keyName } : {}) }));
    case 'awskms':
      return deviceSigner(await openAwsKmsKey(r, { env: opts.env }));
  }
}
