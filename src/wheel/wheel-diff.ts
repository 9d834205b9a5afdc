/**
 * What differs between two wheels, file by file: which entries one has and the other lacks,
 * whose bytes, permissions or timestamps differ, and whether the order does. For `rebuild`,
 * which must say more on a mismatch than "the digests differ". Pure.
 */
import { hash } from 'node:crypto';
import { readZipDirectory, readZipEntry } from './zip-read.ts';
import type { ZipEntryInfo } from './zip-read.ts';

export interface WheelDifference {
  /** The archive path, or `(archive)` for a difference of the zip as a whole. */
  path: string;
  kind: 'only in published' | 'only in rebuilt' | 'content' | 'mode' | 'timestamp' | 'order' | 'archive';
  detail: string;
}

function dosTime(e: ZipEntryInfo): string {
  const y = 1980 + (e.dosDate >> 9);
  const mo = (e.dosDate >> 5) & 0xf;
  const d = e.dosDate & 0x1f;
  const h = e.dosTime >> 11;
  const mi = (e.dosTime >> 5) & 0x3f;
  const s = (e.dosTime & 0x1f) * 2;
  const two = (n: number) => String(n).padStart(2, '0');
  return `${y}-${two(mo)}-${two(d)} ${two(h)}:${two(mi)}:${two(s)}`;
}

/** Empty when the two are the same bytes. Throws ZipReadError when either is not a zip. */
export function diffWheels(published: Uint8Array, rebuilt: Uint8Array): WheelDifference[] {
  if (Buffer.compare(published, rebuilt) === 0) return [];
  const a = readZipDirectory(published);
  const b = readZipDirectory(rebuilt);
  const bByName = new Map(b.map((e) => [e.name, e]));
  const aNames = new Set(a.map((e) => e.name));
  const out: WheelDifference[] = [];
  for (const ea of a) {
    const eb = bByName.get(ea.name);
    if (eb === undefined) {
      out.push({ path: ea.name, kind: 'only in published', detail: `${ea.size} bytes` });
      continue;
    }
    const da = readZipEntry(published, ea);
    const db = readZipEntry(rebuilt, eb);
    if (Buffer.compare(da, db) !== 0) {
      out.push({ path: ea.name, kind: 'content', detail: `published ${da.length} bytes sha256 ${hash('sha256', da, 'hex').slice(0, 16)}…, rebuilt ${db.length} bytes sha256 ${hash('sha256', db, 'hex').slice(0, 16)}…` });
    }
    if (ea.mode !== eb.mode) out.push({ path: ea.name, kind: 'mode', detail: `published ${ea.mode.toString(8)}, rebuilt ${eb.mode.toString(8)}` });
    if (ea.dosDate !== eb.dosDate || ea.dosTime !== eb.dosTime) out.push({ path: ea.name, kind: 'timestamp', detail: `published ${dosTime(ea)}, rebuilt ${dosTime(eb)}` });
  }
  for (const eb of b) if (!aNames.has(eb.name)) out.push({ path: eb.name, kind: 'only in rebuilt', detail: `${eb.size} bytes` });
  const common = (list: ZipEntryInfo[], other: Set<string>) => list.map((e) => e.name).filter((n) => other.has(n));
  const orderA = common(a, new Set(bByName.keys()));
  const orderB = common(b, aNames);
  const firstOff = orderA.findIndex((n, i) => n !== orderB[i]);
  if (firstOff >= 0) out.push({ path: orderA[firstOff]!, kind: 'order', detail: `published has it at entry ${firstOff + 1}, rebuilt has ${orderB[firstOff]} there` });
  // Same files, same order, yet other bytes: compression or zip layout.
  if (out.length === 0) out.push({ path: '(archive)', kind: 'archive', detail: 'every file, mode and timestamp is the same; the zip bytes differ (compression or layout)' });
  return out;
}
