import type { Reporter } from '../reporter.ts';
import { ProvenantError, isProvenantError } from '../errors.ts';
import { objectPropsFor } from '../storage/object-props.ts';
import type { Storage } from '../storage/storage.ts';
import { serializeDoc, type ProjectDoc, type RootDoc } from './model.ts';

/**
 * Reading and writing the index state: compare-and-swap of a JSON document with retry, and
 * keeping the derived HTML page in line with it. Shared by updateIndex and rebuildIndex.
 */
export interface CasState<D, R> {
  doc: D;
  etag: string | undefined;
  result: R;
  wrote: boolean;
}

export interface CasUpdate<D, R> {
  storage: Storage;
  key: string;
  parse: (bytes: Uint8Array, key: string) => D;
  empty: () => D;
  change: (doc: D) => { doc: D; changed: boolean; result: R };
  maxAttempts: number;
  reporter: Reporter;
}

export async function casUpdate<D extends ProjectDoc | RootDoc, R>(u: CasUpdate<D, R>): Promise<CasState<D, R>> {
  for (let attempt = 1; ; attempt++) {
    const current = await u.storage.get(u.key);
    const base = current ? u.parse(current.bytes, u.key) : u.empty();
    const c = u.change(base);
    if (!c.changed) return { doc: base, etag: current?.etag, result: c.result, wrote: false };
    try {
      const etag = await u.storage.putIfMatch(u.key, serializeDoc(c.doc), objectPropsFor(u.key), current?.etag);
      return { doc: c.doc, etag, result: c.result, wrote: true };
    } catch (e) {
      if (!(isProvenantError(e) && e.code === 'E_CAS_CONFLICT')) throw e;
      if (attempt >= u.maxAttempts) {
        throw new ProvenantError('E_INDEX_CONTENDED', `gave up updating ${u.key} after ${attempt} compare-and-swap conflicts`, {
          exitClass: 'conflict',
          file: u.key,
          hint: 'other publishers kept changing the index; run the publish again (it is idempotent)',
          cause: e,
        });
      }
      u.reporter.debug(`index: ${u.key} changed under us (attempt ${attempt}); re-reading`, 2);
      await backoff(attempt);
    }
  }
}

/** Brings the HTML page in line with the JSON state; true when it wrote the page. */
export async function syncHtml<D extends ProjectDoc | RootDoc>(
  storage: Storage,
  jsonKey: string,
  htmlKey: string,
  state: { doc: D; etag: string | undefined },
  parse: (bytes: Uint8Array, key: string) => D,
  render: (doc: D) => string,
  maxAttempts: number,
): Promise<boolean> {
  let { doc, etag } = state;
  let wrote = false;
  for (let attempt = 1; attempt <= maxAttempts; attempt++) {
    const html = new TextEncoder().encode(render(doc));
    const existing = await storage.get(htmlKey);
    if (!existing || !sameBytes(existing.bytes, html)) {
      await storage.put(htmlKey, html, objectPropsFor(htmlKey));
      wrote = true;
    }
    const now = await storage.get(jsonKey);
    if (!now || now.etag === etag) return wrote;
    // Another publisher moved the state after we rendered; its page may have been overwritten by ours.
    doc = parse(now.bytes, jsonKey);
    etag = now.etag;
  }
  return wrote;
}

export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.byteLength === b.byteLength && Buffer.compare(a, b) === 0;
}

export function backoff(attempt: number): Promise<void> {
  const ms = Math.random() * Math.min(500, 5 * 2 ** attempt);
  return new Promise((resolve) => setTimeout(resolve, ms));
}
