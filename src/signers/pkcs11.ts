import { realpathSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type * as Pkcs11Types from 'pkcs11js';
import { ProvenantError } from '../errors.ts';
import { envValue } from '../util/env.ts';
import type { DeviceKey } from './device-signer.ts';
import { curveOfEcParams, derFromRawSignature, ecPointBytes, publicKeyFromPoint, type DeviceCurve } from './ec-encoding.ts';
import { describeKeyRef, type Pkcs11KeyRef } from './key-ref.ts';

/**
 * PKCS#11 keys through pkcs11js: the token is found by the URI's token attributes, the private
 * key by object (CKA_LABEL) and/or id (CKA_ID), and the public key is read from the public-key
 * object beside it (CKA_EC_PARAMS + CKA_EC_POINT). ECDSA signs a digest computed here
 * (CKM_ECDSA), Ed25519 the message (CKM_EDDSA). The module reads its own configuration from
 * the process environment (e.g. SOFTHSM2_CONF).
 */
export const PIN_ENV = 'PROVENANT_PKCS11_PIN';
export const MODULE_ENV = 'PROVENANT_PKCS11_MODULE';

// PKCS#11 3.0 values pkcs11js (2.40) does not name.
const CKK_EC_EDWARDS = 0x40;
const CKM_EDDSA = 0x1057;

type Pkcs11Module = typeof Pkcs11Types;
type Handle = Buffer;

export interface Pkcs11Options {
  env: NodeJS.ProcessEnv;
  /** Base for a relative pin-source. */
  cwd: string;
  /** The key store's name for the key: its PIN may come from PROVENANT_PKCS11_PIN_<NAME>. */
  keyName?: string;
}

export function pinEnvNames(keyName?: string): string[] {
  return [...(keyName ? [`${PIN_ENV}_${keyName.toUpperCase().replace(/[^A-Z0-9]/g, '_')}`] : []), PIN_ENV];
}

/**
 * One initialised library per module file, shared by every key on it and finalised with the
 * last: a second C_Initialize of the same library (reached by another path, e.g. a distribution's
 * symlink) fails with CKR_CRYPTOKI_ALREADY_INITIALIZED.
 */
const modules = new Map<string, { lib: Pkcs11Types.PKCS11; users: number }>();
let binding: Pkcs11Module | undefined;

export async function openPkcs11Key(ref: Pkcs11KeyRef, opts: Pkcs11Options): Promise<DeviceKey> {
  const describe = describeKeyRef(ref);
  const modulePath = ref.modulePath ?? envValue(opts.env, MODULE_ENV);
  if (!modulePath) {
    throw new ProvenantError('E_PKCS11_MODULE', `no PKCS#11 module for ${describe}`, {
      exitClass: 'usage',
      hint: `add ?module-path=/path/to/module.so to the reference (SoftHSM: /usr/lib/softhsm/libsofthsm2.so) or set ${MODULE_ENV}`,
    });
  }
  const realModule = realModulePath(modulePath);
  // Only a file that exists is loaded: a bare or missing name would reach dlopen's own search
  // (LD_LIBRARY_PATH, the ld cache), past the allow-list below.
  if (realModule === undefined) {
    throw new ProvenantError('E_PKCS11_MODULE', `cannot load the PKCS#11 module ${modulePath} for ${describe}: no such file`, {
      exitClass: 'usage',
      field: 'module-path',
      hint: `give the module's absolute path (SoftHSM: /usr/lib/softhsm/libsofthsm2.so) in module-path or ${MODULE_ENV}`,
    });
  }
  if (!moduleAllowed(realModule, opts.env)) {
    throw new ProvenantError('E_PKCS11_MODULE', `refusing to load the PKCS#11 module ${realModule} for ${describe}: it is not in a system library directory (/usr/lib*, /usr/local/lib*)`, {
      exitClass: 'usage',
      field: 'module-path',
      hint: `a module runs inside provenant, beside every PIN and credential: install it under /usr/lib or /usr/local/lib, or, if you trust this one, set ${MODULE_ENV}=${realModule}`,
    });
  }
  const moduleFile = realModule;
  const pkcs11 = loadBinding();
  const lib = acquire(pkcs11, moduleFile, describe);
  let session: Handle | undefined;
  const close = async () => {
    const open = session;
    session = undefined;
    try {
      // Closing is clean-up: a token pulled out meanwhile must not hide the error being reported.
      if (open) lib.C_CloseSession(open);
    } catch {
      // the session is gone either way
    } finally {
      release(moduleFile);
    }
  };
  try {
    const slot = findSlot(pkcs11, lib, ref, describe);
    const token = lib.C_GetTokenInfo(slot);
    const tokenLabel = token.label.trim();
    session = call(describe, 'C_OpenSession', () => lib.C_OpenSession(slot, pkcs11.CKF_SERIAL_SESSION));
    if (token.flags & pkcs11.CKF_LOGIN_REQUIRED) await login(pkcs11, lib, session, ref, opts, tokenLabel, describe);
    const privateKey = findPrivateKey(pkcs11, lib, session, ref, tokenLabel, describe);
    const [keyTypeAttr, idAttr] = lib.C_GetAttributeValue(session, privateKey, [{ type: pkcs11.CKA_KEY_TYPE }, { type: pkcs11.CKA_ID }]);
    const keyType = ulong(keyTypeAttr!.value);
    if (keyType !== pkcs11.CKK_EC && keyType !== CKK_EC_EDWARDS) {
      throw new ProvenantError('E_KEY_TYPE', `${describe} is ${keyType === pkcs11.CKK_RSA ? 'an RSA' : `a type 0x${keyType.toString(16)}`} key; provenant signs with ECDSA P-256/P-384 or Ed25519`, {
        exitClass: 'input',
        hint: 'generate an EC key on the token (pkcs11-tool --keypairgen --key-type EC:prime256v1 or EC:secp384r1, or EC:edwards25519) and reference it',
      });
    }
    const { curve, publicKey } = readPublicKey(pkcs11, lib, session, idAttr!.value, ref, tokenLabel, describe);
    const mechanism = curve === 'Ed25519' ? CKM_EDDSA : pkcs11.CKM_ECDSA;
    if (!lib.C_GetMechanismList(slot).includes(mechanism)) {
      throw new ProvenantError('E_PKCS11_MECHANISM', `token ${tokenLabel} cannot sign with ${curve === 'Ed25519' ? 'CKM_EDDSA' : 'CKM_ECDSA'}, which ${describe} needs`, {
        exitClass: 'input',
        hint: curve === 'Ed25519' ? 'this token has no Ed25519 signing: use an ECDSA P-256 or P-384 key on it' : 'use a token whose module supports CKM_ECDSA',
      });
    }
    const open = session;
    return {
      describe,
      publicKey,
      async signDigestOrMessage(input) {
        const out = call(describe, 'C_Sign', () => {
          lib.C_SignInit(open, { mechanism }, privateKey);
          return lib.C_Sign(open, Buffer.from(input), Buffer.alloc(256));
        });
        return curve === 'Ed25519' ? new Uint8Array(out) : derFromRawSignature(out);
      },
      close,
    };
  } catch (e) {
    await close();
    throw e;
  }
}

function loadBinding(): Pkcs11Module {
  // Loaded on first use: hosts that sign with files never load the native addon.
  binding ??= createRequire(import.meta.url)('pkcs11js') as Pkcs11Module;
  return binding;
}

/** The module's real path; undefined when there is nothing there (loading it then fails with its own message). */
function realModulePath(modulePath: string): string | undefined {
  try {
    return realpathSync(modulePath);
  } catch {
    return undefined;
  }
}

/**
 * Loading a module runs its code in this process. A reference names the module, and references
 * live in keys.json, which may be written by others than the operator (a CI cache, a config
 * repository): so, as ssh-agent does for PKCS#11 providers, only modules whose real path is in
 * a system library directory are loaded, or the one the operator names in PROVENANT_PKCS11_MODULE.
 */
const SYSTEM_MODULE_DIR = /^\/usr\/(?:local\/)?lib[^/]*\//;

function moduleAllowed(moduleFile: string, env: NodeJS.ProcessEnv): boolean {
  if (SYSTEM_MODULE_DIR.test(moduleFile)) return true;
  const chosen = envValue(env, MODULE_ENV);
  return chosen !== undefined && realModulePath(chosen) === moduleFile;
}

function acquire(pkcs11: Pkcs11Module, modulePath: string, describe: string): Pkcs11Types.PKCS11 {
  const held = modules.get(modulePath);
  if (held) {
    held.users++;
    return held.lib;
  }
  const lib = new pkcs11.PKCS11();
  try {
    lib.load(modulePath);
    lib.C_Initialize();
  } catch (e) {
    throw new ProvenantError('E_PKCS11_MODULE', `cannot load the PKCS#11 module ${modulePath} for ${describe}: ${(e as Error).message}`, {
      exitClass: 'input',
      field: 'module-path',
      hint: 'install the module (SoftHSM: apt-get install softhsm2) or fix module-path in the reference',
      cause: e,
    });
  }
  modules.set(modulePath, { lib, users: 1 });
  return lib;
}

function release(modulePath: string): void {
  const held = modules.get(modulePath);
  if (!held || --held.users > 0) return;
  modules.delete(modulePath);
  try {
    held.lib.C_Finalize();
  } finally {
    held.lib.close();
  }
}

function findSlot(pkcs11: Pkcs11Module, lib: Pkcs11Types.PKCS11, ref: Pkcs11KeyRef, describe: string): Handle {
  const info = lib.C_GetInfo();
  const libraryOk =
    matches(ref.libraryManufacturer, info.manufacturerID) &&
    matches(ref.libraryDescription, info.libraryDescription) &&
    (ref.libraryVersion === undefined || versionMatches(ref.libraryVersion, info.libraryVersion));
  const present = libraryOk ? call(describe, 'C_GetSlotList', () => lib.C_GetSlotList(true)) : [];
  const seen: string[] = [];
  const found = present.filter((slot) => {
    const t = lib.C_GetTokenInfo(slot);
    const s = lib.C_GetSlotInfo(slot);
    seen.push(t.label.trim());
    return (
      (t.flags & pkcs11.CKF_TOKEN_INITIALIZED) !== 0 &&
      matches(ref.token, t.label) &&
      matches(ref.manufacturer, t.manufacturerID) &&
      matches(ref.serial, t.serialNumber) &&
      matches(ref.model, t.model) &&
      matches(ref.slotDescription, s.slotDescription) &&
      matches(ref.slotManufacturer, s.manufacturerID) &&
      (ref.slotId === undefined || BigInt(ref.slotId) === handleNumber(slot))
    );
  });
  if (found.length === 1) return found[0]!;
  throw new ProvenantError(
    'E_PKCS11_TOKEN',
    found.length === 0
      ? `no token matches ${describe}${libraryOk ? ` (tokens present: ${seen.join(', ') || 'none'})` : ' (the module is not the one the library-* attributes name)'}`
      : `${found.length} tokens match ${describe}`,
    {
      exitClass: 'input',
      hint: found.length === 0 ? 'insert the token, or fix token=/serial= in the reference (list tokens with `pkcs11-tool --module M -L`)' : 'add serial= or slot-id= to the reference to pick one token',
    },
  );
}

async function login(
  pkcs11: Pkcs11Module,
  lib: Pkcs11Types.PKCS11,
  session: Handle,
  ref: Pkcs11KeyRef,
  opts: Pkcs11Options,
  tokenLabel: string,
  describe: string,
): Promise<void> {
  const names = pinEnvNames(opts.keyName);
  const pinHint = `give the user PIN with pin-source=/path/to/pin-file in the reference, or set ${names.join(' or ')}`;
  let pin = ref.pinValue;
  if (pin === undefined && ref.pinSource !== undefined) {
    const file = path.resolve(opts.cwd, ref.pinSource.startsWith('file:') ? fileURLToPath(new URL(ref.pinSource, 'file:///')) : ref.pinSource);
    try {
      pin = (await readFile(file, 'utf8')).replace(/\r?\n$/, '');
    } catch (e) {
      throw new ProvenantError('E_PKCS11_PIN', `cannot read the PIN file of ${describe}: ${(e as Error).message}`, { exitClass: 'input', file, field: 'pin-source', hint: pinHint, cause: e });
    }
  }
  pin ??= envValue(opts.env, ...names);
  if (pin === undefined) throw new ProvenantError('E_PKCS11_PIN', `token ${tokenLabel} needs a PIN for ${describe} and none was given`, { exitClass: 'input', hint: pinHint });
  try {
    lib.C_Login(session, pkcs11.CKU_USER, pin);
  } catch (e) {
    const code = (e as { code?: number }).code;
    if (code === pkcs11.CKR_USER_ALREADY_LOGGED_IN) return;
    if (code === pkcs11.CKR_PIN_INCORRECT || code === pkcs11.CKR_PIN_LEN_RANGE || code === pkcs11.CKR_PIN_LOCKED) {
      const locked = code === pkcs11.CKR_PIN_LOCKED;
      throw new ProvenantError('E_PKCS11_PIN', locked ? `the user PIN of token ${tokenLabel} is locked` : `wrong PIN for token ${tokenLabel} (${describe})`, {
        exitClass: 'input',
        hint: locked ? 'unlock the PIN with the security officer PIN (e.g. softhsm2-util/pkcs11-tool --init-pin)' : `${pinHint}; tokens lock the PIN after a few wrong tries`,
        cause: e,
      });
    }
    throw pkcs11Failure(describe, 'C_Login', e);
  }
}

function findPrivateKey(pkcs11: Pkcs11Module, lib: Pkcs11Types.PKCS11, session: Handle, ref: Pkcs11KeyRef, tokenLabel: string, describe: string): Handle {
  const template: Pkcs11Types.Template = [{ type: pkcs11.CKA_CLASS, value: pkcs11.CKO_PRIVATE_KEY }];
  if (ref.object !== undefined) template.push({ type: pkcs11.CKA_LABEL, value: ref.object });
  if (ref.id !== undefined) template.push({ type: pkcs11.CKA_ID, value: Buffer.from(ref.id) });
  const found = findObjects(lib, session, template, describe);
  if (found.length === 1) return found[0]!;
  if (found.length > 1) {
    throw new ProvenantError('E_PKCS11_OBJECT', `${found.length} private keys on token ${tokenLabel} match ${describe}`, {
      exitClass: 'input',
      hint: 'add id=%XX (the CKA_ID) to the reference so it names one key',
    });
  }
  const all = findObjects(lib, session, [{ type: pkcs11.CKA_CLASS, value: pkcs11.CKO_PRIVATE_KEY }], describe);
  const labels = all.map((h) => lib.C_GetAttributeValue(session, h, [{ type: pkcs11.CKA_LABEL }])[0]!.value.toString('utf8'));
  throw new ProvenantError('E_PKCS11_OBJECT', `token ${tokenLabel} has no private key matching ${describe} (private keys there: ${labels.join(', ') || 'none'})`, {
    exitClass: 'input',
    hint: 'fix object=/id= in the reference, or generate the key on the token (docs/keys.md); a wrong PIN can also hide private keys',
  });
}

function readPublicKey(
  pkcs11: Pkcs11Module,
  lib: Pkcs11Types.PKCS11,
  session: Handle,
  id: Buffer,
  ref: Pkcs11KeyRef,
  tokenLabel: string,
  describe: string,
): { curve: DeviceCurve; publicKey: ReturnType<typeof publicKeyFromPoint> } {
  const template: Pkcs11Types.Template = [{ type: pkcs11.CKA_CLASS, value: pkcs11.CKO_PUBLIC_KEY }];
  // The pair shares its CKA_ID; a key without one is paired by its label.
  if (id.length > 0) template.push({ type: pkcs11.CKA_ID, value: id });
  else if (ref.object !== undefined) template.push({ type: pkcs11.CKA_LABEL, value: ref.object });
  const found = findObjects(lib, session, template, describe);
  if (found.length !== 1) {
    throw new ProvenantError('E_PKCS11_OBJECT', `token ${tokenLabel} has ${found.length === 0 ? 'no' : found.length} public-key object(s) beside the private key of ${describe}`, {
      exitClass: 'input',
      hint: 'provenant reads the public key from the token: keep the public-key object of the pair (same CKA_ID), or import it (pkcs11-tool --write-object pub.der --type pubkey --id XX)',
    });
  }
  const [params, point] = lib.C_GetAttributeValue(session, found[0]!, [{ type: pkcs11.CKA_EC_PARAMS }, { type: pkcs11.CKA_EC_POINT }]);
  const curve = curveOfEcParams(params!.value);
  const bytes = curve ? ecPointBytes(point!.value, curve) : undefined;
  if (!curve || !bytes) {
    throw new ProvenantError('E_KEY_TYPE', `${describe} is on a curve provenant does not sign with (CKA_EC_PARAMS ${params!.value.toString('hex')})`, {
      exitClass: 'input',
      hint: 'use an ECDSA P-256 or P-384 key, or an Ed25519 key',
    });
  }
  return { curve, publicKey: publicKeyFromPoint(curve, bytes) };
}

function findObjects(lib: Pkcs11Types.PKCS11, session: Handle, template: Pkcs11Types.Template, describe: string): Handle[] {
  return call(describe, 'C_FindObjects', () => {
    lib.C_FindObjectsInit(session, template);
    try {
      return lib.C_FindObjects(session, 16);
    } finally {
      lib.C_FindObjectsFinal(session);
    }
  });
}

function call<T>(describe: string, fn: string, body: () => T): T {
  try {
    return body();
  } catch (e) {
    throw pkcs11Failure(describe, fn, e);
  }
}

function pkcs11Failure(describe: string, fn: string, e: unknown): ProvenantError {
  if (e instanceof ProvenantError) return e;
  const ckr = (e as Error).message || 'unknown error';
  const removed = /CKR_(DEVICE_REMOVED|TOKEN_NOT_PRESENT|SESSION_HANDLE_INVALID|SESSION_CLOSED)/.test(ckr);
  return new ProvenantError('E_PKCS11', `${fn} failed for ${describe}: ${ckr}`, {
    exitClass: 'input',
    hint: removed ? 'the token went away: insert it again and rerun' : 'check the token and the reference (docs/keys.md); the PKCS#11 return value names the cause',
    cause: e,
  });
}

/** Token and slot strings are blank-padded to a fixed width (PKCS#11 §3.2). */
function matches(want: string | undefined, padded: string): boolean {
  return want === undefined || want === padded.replace(/ +$/, '');
}

function versionMatches(want: string, v: { major: number; minor: number }): boolean {
  const [major, minor = '0'] = want.split('.');
  return Number(major) === v.major && Number(minor) === v.minor;
}

function handleNumber(h: Handle): bigint {
  return h.length >= 8 ? h.readBigUInt64LE(0) : BigInt(h.readUInt32LE(0));
}

function ulong(b: Buffer): number {
  return Number(b.length >= 8 ? b.readBigUInt64LE(0) : BigInt(b.readUInt32LE(0)));
}

