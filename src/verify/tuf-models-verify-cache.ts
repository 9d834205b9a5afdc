import { verify as cryptoVerify } from 'node:crypto';
import { createRequire } from 'node:module';

/**
 * @tufjs/models verifies each signature from scratch: it rebuilds the public KeyObject from its
 * hex or PEM text (`getPublicKey`) and runs the signature check, every time. tuf-js asks for the
 * same checks several times per download (the top-level targets are re-verified on every target
 * lookup; the trusted metadata read back from the state directory is re-verified on every run
 * of a long-lived process). Two memos, applied once on import:
 *
 * - KeyObjects by their exact key text, scheme and type (parsing a key has one answer);
 * - successful signature checks by the exact public key, signature and canonical bytes that
 *   were checked. Signature verification is a pure function of those three, so a hit returns
 *   the answer the check would give; any change to the metadata changes the canonical bytes and
 *   misses. Failures are never remembered: they are checked again, and fail again.
 *
 * Canonical JSON is still computed for every check (it is the memo key), so no mutation of a
 * metadata object between two checks can slip through.
 */
const require = createRequire(import.meta.url);

interface PublicKeyInfo {
  keyType: string;
  scheme: string;
  keyVal: string;
}

interface VerifyKey {
  key: unknown;
  hashAlgorithm?: string;
  padding?: number;
}

const keyUtils = require('@tufjs/models/dist/utils/key.js') as { getPublicKey(info: PublicKeyInfo): VerifyKey; __provenantCached?: boolean };
const verifyUtils = require('@tufjs/models/dist/utils/verify.js') as { verifySignature(data: object, key: VerifyKey, sig: string): boolean; __provenantCached?: boolean };
const canonical = require('@tufjs/canonical-json') as { canonicalize(o: unknown): string };

/** Enough for every key of a few repositories; the memo is cleared whole when it fills up. */
const MAX_ENTRIES = 64;

const keyObjects = new Map<string, VerifyKey>();
/** `key` → (`signature` + canonical bytes) entries known to verify. */
const verified = new WeakMap<VerifyKey, Map<string, string>>();

if (!keyUtils.__provenantCached) {
  keyUtils.__provenantCached = true;
  const original = keyUtils.getPublicKey;
  keyUtils.getPublicKey = (info: PublicKeyInfo): VerifyKey => {
    const id = `${info.keyType}\n${info.scheme}\n${info.keyVal}`;
    let k = keyObjects.get(id);
    if (!k) {
      k = original(info);
      if (keyObjects.size >= MAX_ENTRIES) keyObjects.clear();
      keyObjects.set(id, k);
    }
    return k;
  };
}

if (!verifyUtils.__provenantCached) {
  verifyUtils.__provenantCached = true;
  verifyUtils.verifySignature = (data: object, key: VerifyKey, sig: string): boolean => {
    const text = canonical.canonicalize(data);
    let known = verified.get(key);
    if (known?.get(sig) === text) return true;
    const ok = cryptoVerify(key.hashAlgorithm as string, Buffer.from(text), key as never, Buffer.from(sig, 'hex'));
    if (ok) {
      if (!known) verified.set(key, (known = new Map()));
      if (known.size >= MAX_ENTRIES) known.clear();
      known.set(sig, text);
    }
    return ok;
  };
}
