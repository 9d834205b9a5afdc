/**
 * The values of a fixture repository that depend on its run (key ids, public keys, target and
 * snapshot digests), by placeholder name, and signature placeholders for its metadata: shared
 * by the corpus generator (value → placeholder) and the tuf-metadata target (placeholder → value).
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { canonicalJson } from '../../src/formats/canonical-json.ts';
import { jsonEscaped } from './placeholders.ts';

export const TUF_KEY_NAMES = ['root', 'targets', 'online', 'attestation'] as const;

interface MetadataJson {
  signatures: { keyid: string; sig: string }[];
  signed: { _type: string; version: number; targets?: Record<string, { hashes?: { sha256?: string } }>; meta?: Record<string, { hashes?: { sha256?: string } }> };
}

export function readJson<T>(file: string): T {
  return JSON.parse(readFileSync(file, 'utf8')) as T;
}

/** keyid:/public: per key of the store, sha256:<target path> for every target, sha256:snapshot.json. */
export function tufValues(repoDir: string, keysDir: string): Record<string, string> {
  const values: Record<string, string> = {};
  const index = readJson<{ keys: Record<string, { keyid: string; public: string }> }>(path.join(keysDir, 'keys.json'));
  for (const name of TUF_KEY_NAMES) {
    values[`keyid:${name}`] = index.keys[name]!.keyid;
    values[`public:${name}`] = jsonEscaped(index.keys[name]!.public);
  }
  const dir = path.join(repoDir, 'metadata');
  for (const f of readdirSync(dir)) {
    const md = readJson<MetadataJson>(path.join(dir, f));
    for (const [p, t] of Object.entries(md.signed.targets ?? {})) if (t.hashes?.sha256) values[`sha256:${p}`] = t.hashes.sha256;
    if (f === 'timestamp.json') values['sha256:snapshot.json'] = md.signed.meta!['snapshot.json']!.hashes!.sha256!;
  }
  return values;
}

/** Key name by key id, for turning signatures into `sig:<name>` placeholders. */
export function keyNames(keysDir: string): Map<string, string> {
  const index = readJson<{ keys: Record<string, { keyid: string }> }>(path.join(keysDir, 'keys.json'));
  return new Map(Object.entries(index.keys).map(([name, k]) => [k.keyid, name]));
}

/** The canonical form of a metadata document's signed part: what its signatures cover. */
export function signedPart(doc: unknown): string {
  return canonicalJson((doc as { signed: unknown }).signed);
}
