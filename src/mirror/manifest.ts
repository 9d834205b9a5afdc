import { z } from 'zod';
import { ProvenantError } from '../errors.ts';
import { codePointCompare } from '../util/code-point-order.ts';

/**
 * The bundle's table of contents, `provenant-mirror.json` at its root. Not trusted for
 * authenticity (it is not signed: TUF metadata, pointers and policy keys are what the download
 * checks), but every entry's length and sha256 is checked when a bundle is opened, so a bundle
 * truncated or altered in transit is refused at once, naming the entry, even for files the
 * download does not read (the PEP 658 `.whl.metadata`).
 */
export const MANIFEST_KEY = 'provenant-mirror.json';
export const MANIFEST_FORMAT = 1;
/**
 * Far above any real manifest (about 150 bytes a file): a bundle's size is the sender's to choose,
 * so the manifest, the one entry read whole into memory, is refused above this before it is read.
 */
export const MANIFEST_MAX_BYTES = 64 * 1024 * 1024;

const FileSchema = z.object({ length: z.number().int().nonnegative(), sha256: z.string().regex(/^[0-9a-f]{64}$/) }).strict();
const ManifestSchema = z
  .object({
    mirrorFormat: z.literal(MANIFEST_FORMAT),
    source: z.string(),
    tuf: z.object({ root: z.number().int(), timestamp: z.number().int(), snapshot: z.number().int(), timestampExpires: z.string() }).strict(),
    releases: z.array(z.object({ project: z.string(), version: z.string(), wheel: z.string(), sha256: z.string() }).strict()),
    files: z.record(z.string(), FileSchema),
  })
  .strict();

export type MirrorManifest = z.infer<typeof ManifestSchema>;

/** Stable bytes: fixed key order, files sorted (releases in the order given), so the same bundle content gives the same manifest. */
export function renderManifest(m: MirrorManifest): Uint8Array {
  const files: Record<string, z.infer<typeof FileSchema>> = {};
  for (const key of Object.keys(m.files).sort(codePointCompare)) files[key] = { length: m.files[key]!.length, sha256: m.files[key]!.sha256 };
  const ordered = { mirrorFormat: m.mirrorFormat, source: m.source, tuf: m.tuf, releases: m.releases, files };
  return new TextEncoder().encode(`${JSON.stringify(ordered, null, 2)}\n`);
}

export function parseManifest(bytes: Uint8Array, archive: string): MirrorManifest {
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (e) {
    throw manifestError(archive, `is not JSON: ${(e as Error).message}`);
  }
  const r = ManifestSchema.safeParse(json);
  if (!r.success) throw manifestError(archive, `is not a mirror manifest: ${r.error.issues[0]?.path.join('.')}: ${r.error.issues[0]?.message}`);
  return r.data;
}

export function manifestError(archive: string, why: string): ProvenantError {
  return new ProvenantError('E_MIRROR_MANIFEST', `${archive}: ${MANIFEST_KEY} ${why}`, {
    exitClass: 'verification',
    file: MANIFEST_KEY,
    hint: 'a bundle is written by `provenant mirror export`; export it again',
  });
}
