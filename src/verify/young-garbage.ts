import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/**
 * Streaming a large wheel allocates a fresh 64 KiB buffer per socket read; each is garbage as
 * soon as it is hashed and written, but V8 only collects buffers held outside its heap after
 * some 64 MiB of them have piled up, which showed as a one-time +64 MiB step in peak RSS for
 * any wheel past that size. A scavenge (minor GC: young objects only, well under a
 * millisecond) every few MiB frees them as they go. V8 offers no API for it but its `gc`
 * function, so this takes one from a fresh context with the flag set briefly, once per process
 * (or uses the global one under --expose-gc). Where that is refused, it is a no-op.
 */
type GcFunction = (options: { type: 'minor' | 'major'; execution?: 'sync' }) => void;

let scavenge: (() => void) | null | undefined;

export function collectYoungGarbage(): void {
  if (scavenge === undefined) scavenge = findScavenge();
  scavenge?.();
}

function findScavenge(): (() => void) | null {
  try {
    let gc = (globalThis as { gc?: GcFunction }).gc;
    if (typeof gc !== 'function') {
      setFlagsFromString('--expose-gc');
      try {
        gc = runInNewContext('gc') as GcFunction | undefined;
      } finally {
        setFlagsFromString('--no-expose-gc');
      }
    }
    if (typeof gc !== 'function') return null;
    const fn = gc;
    return () => fn({ type: 'minor' });
  } catch {
    return null;
  }
}
