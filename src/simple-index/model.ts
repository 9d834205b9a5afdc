import { z } from 'zod';
import { ProvenantError } from '../errors.ts';
import { isValidProjectName, normalizeProjectName } from '../formats/pep503.ts';
import { API_VERSION, projectJsonKey } from './layout.ts';

/**
 * The PEP 691 JSON documents (API version 1.1, with PEP 700's keys) that are the index's state.
 * Parsing is loose: keys a later writer adds (e.g. `yanked` reasons, `provenance`) survive a
 * read-modify-write by an older provenant.
 */
const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/, 'must be 64 lowercase hex characters (sha256)');
const metadataHashes = z.union([z.boolean(), z.object({ sha256: sha256Hex }).loose()]);

export const SimpleFileSchema = z
  .object({
    filename: z.string().min(1),
    url: z.string().min(1),
    hashes: z.object({ sha256: sha256Hex }).loose(),
    'requires-python': z.string().optional(),
    'core-metadata': metadataHashes.optional(),
    'dist-info-metadata': metadataHashes.optional(),
    size: z.number().int().nonnegative(),
    'upload-time': z.string().optional(),
    yanked: z.union([z.boolean(), z.string()]).optional(),
  })
  .loose();

const meta = z.object({ 'api-version': z.string().regex(/^1\.\d+$/, 'must be a 1.x API version') }).loose();

export const ProjectDocSchema = z
  .object({
    meta,
    name: z.string().min(1),
    files: z.array(SimpleFileSchema),
    versions: z.array(z.string()),
  })
  .loose();

export const RootDocSchema = z
  .object({
    meta,
    // Names become links: anything but a project name (a lone surrogate, a slash) is corruption.
    projects: z.array(z.object({ name: z.string().min(1).refine(isValidProjectName, 'must be a project name (PEP 508)') }).loose()),
  })
  .loose();

export type SimpleFile = z.infer<typeof SimpleFileSchema>;
export type ProjectDoc = z.infer<typeof ProjectDocSchema>;
export type RootDoc = z.infer<typeof RootDocSchema>;

export function emptyProjectDoc(normalizedName: string): ProjectDoc {
  return { meta: { 'api-version': API_VERSION }, name: normalizedName, files: [], versions: [] };
}

export function emptyRootDoc(): RootDoc {
  return { meta: { 'api-version': API_VERSION }, projects: [] };
}

/** A project page's state; a document naming another project than its key is corrupt (copied or tampered with). */
export function parseProjectDoc(bytes: Uint8Array, key: string): ProjectDoc {
  const doc = parseDoc(ProjectDocSchema, bytes, key);
  if (key !== projectJsonKey(normalizeProjectName(doc.name))) throw corrupt(key, 'name', `is the page of ${JSON.stringify(doc.name)}, not of the project its location names`);
  return doc;
}

export function parseRootDoc(bytes: Uint8Array, key: string): RootDoc {
  return parseDoc(RootDocSchema, bytes, key);
}

/** Stable bytes for a document: the etag of what we write is what the next CAS compares. */
export function serializeDoc(doc: ProjectDoc | RootDoc): Uint8Array {
  return new TextEncoder().encode(`${JSON.stringify(doc, null, 2)}\n`);
}

function parseDoc<T>(schema: z.ZodType<T>, bytes: Uint8Array, key: string): T {
  let raw: unknown;
  try {
    raw = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (e) {
    throw corrupt(key, undefined, `is not valid UTF-8 JSON (${e instanceof Error ? e.message : String(e)})`);
  }
  const res = schema.safeParse(raw);
  if (!res.success) {
    const issue = res.error.issues[0];
    const field = issue?.path.map(String).join('.') || undefined;
    throw corrupt(key, field, `does not match the PEP 691 schema: ${issue?.message ?? 'invalid'}`);
  }
  return res.data;
}

function corrupt(key: string, field: string | undefined, what: string): ProvenantError {
  return new ProvenantError('E_INDEX_CORRUPT', `simple index state ${key} ${what}`, {
    exitClass: 'input',
    file: key,
    field,
    hint: 'restore it from a backup, or delete it and regenerate the index from the stored wheels with rebuildIndex() (docs/simple-index.md)',
  });
}
