import { createHash } from 'node:crypto';

/**
 * The hash algorithms a TUF target (pointer, policy) may be pinned by. Every hash the target
 * lists is checked, so one wrong digest beside a right one is refused; a target whose hashes
 * name an algorithm outside this list is refused too (as python-tuf does), never half checked.
 */
export const TARGET_HASH_ALGORITHMS = ['sha256', 'sha512'] as const;

/** Hex digits per algorithm: a pin is a digest, and it becomes part of a URL (the consistent-snapshot name). */
const HEX_DIGITS: Readonly<Record<(typeof TARGET_HASH_ALGORITHMS)[number], number>> = { sha256: 64, sha512: 128 };

/** Why the target's pins cannot be checked at all, or undefined when they can. */
export function uncheckablePins(hashes: Readonly<Record<string, string>>): string | undefined {
  const names = Object.keys(hashes);
  if (names.length === 0) return 'has no hashes in TUF metadata';
  const unknown = names.filter((n) => !(TARGET_HASH_ALGORITHMS as readonly string[]).includes(n));
  if (unknown.length > 0) return `is pinned by hash algorithm(s) provenant does not check (${unknown.join(', ')}); supported: ${TARGET_HASH_ALGORITHMS.join(', ')}`;
  // Checked before the pin names a URL: `../../x` as a "hash" would send the request outside the repository.
  for (const algorithm of TARGET_HASH_ALGORITHMS) {
    const pin = hashes[algorithm];
    if (pin !== undefined && !new RegExp(`^[0-9a-fA-F]{${HEX_DIGITS[algorithm]}}$`).test(pin)) {
      return `is pinned by a ${algorithm} that is not ${HEX_DIGITS[algorithm]} hex digits (${JSON.stringify(pin.slice(0, 80))})`;
    }
  }
  return undefined;
}

/** The first listed hash that `bytes` do not match, described; undefined when all match. Call uncheckablePins first. */
export function hashMismatch(hashes: Readonly<Record<string, string>>, bytes: Uint8Array): string | undefined {
  for (const algorithm of TARGET_HASH_ALGORITHMS) {
    const pinned = hashes[algorithm];
    if (pinned === undefined) continue;
    const actual = createHash(algorithm).update(bytes).digest('hex');
    if (actual !== pinned.toLowerCase()) return `has ${algorithm} ${actual}, TUF pins ${pinned}`;
  }
  return undefined;
}

/** The hash in a consistent-snapshot target name (`<hash>.<file>`): sha256 when listed, as publish writes it. */
export function consistentHash(hashes: Readonly<Record<string, string>>): string | undefined {
  for (const algorithm of TARGET_HASH_ALGORITHMS) if (hashes[algorithm] !== undefined) return hashes[algorithm];
  return undefined;
}
