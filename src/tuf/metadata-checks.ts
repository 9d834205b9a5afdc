import { Metadata, type MetadataKind, type Root, type Snapshot, type Targets, type Timestamp } from '@tufjs/models';
import { ProvenantError } from '../errors.ts';
import type { Storage } from '../storage/storage.ts';

/**
 * The checks a publisher makes on each metadata file it reads from its own repository, the way a
 * client would: parses as the role's metadata, signed by the delegator's threshold, at the
 * version the referrer names. Failures name the file and say how to recover.
 */
export type MetadataOf<K extends MetadataKind> = Metadata<
  K extends MetadataKind.Root ? Root : K extends MetadataKind.Timestamp ? Timestamp : K extends MetadataKind.Snapshot ? Snapshot : Targets
>;

export function parseMetadata<K extends MetadataKind>(kind: K, bytes: Uint8Array, key: string, storage: Storage): MetadataOf<K> {
  try {
    const json = JSON.parse(new TextDecoder().decode(bytes)) as never;
    return Metadata.fromJSON(kind as MetadataKind.Root, json) as unknown as MetadataOf<K>;
  } catch (e) {
    throw tampered(storage, key, `is not valid ${kind} metadata: ${(e as Error).message}`);
  }
}

export function verifySigned(
  delegator: Metadata<Root> | Metadata<Targets>,
  role: string,
  delegate: Metadata<Root | Targets | Snapshot | Timestamp>,
  key: string,
  storage: Storage,
): void {
  try {
    delegator.verifyDelegate(role, delegate);
  } catch (e) {
    throw tampered(storage, key, `is not signed by the ${role} keys the repository trusts: ${(e as Error).message}`);
  }
}

/** The metadata at `key`, parsed and signed by `role`'s keys, or undefined when anything is off (no throw). */
export function validlySigned<K extends MetadataKind>(
  kind: K,
  bytes: Uint8Array,
  delegator: Metadata<Root>,
  role: string,
  key: string,
  storage: Storage,
): MetadataOf<K> | undefined {
  try {
    const md = parseMetadata(kind, bytes, key, storage);
    verifySigned(delegator, role, md as Metadata<Snapshot>, key, storage);
    return md;
  } catch {
    return undefined;
  }
}

export function expectVersion(actual: number, expected: number, key: string, storage: Storage): void {
  if (actual !== expected) throw tampered(storage, key, `has version ${actual} where ${expected} is expected`);
}

export function tampered(storage: Storage, key: string, why: string): ProvenantError {
  return new ProvenantError('E_REPO_TAMPERED', `${key} ${why}`, {
    exitClass: 'verification',
    file: `${storage.location}/${key}`,
    hint: 'the repository was modified outside provenant; restore it from a backup before publishing again',
  });
}

export function incomplete(storage: Storage, key: string, why: string): ProvenantError {
  return new ProvenantError('E_REPO_INCOMPLETE', `${key}: ${why}`, {
    exitClass: 'verification',
    file: `${storage.location}/${key}`,
    hint: 'the repository is missing metadata it refers to; restore it from a backup before publishing again',
  });
}
