/**
 * Raw deflate by zlib 1.2.13 itself, compiled to WebAssembly (zlib/deflate.wasm, rebuilt by
 * zlib/build.sh). hatchling's wheels are compressed by CPython's zlib, and only zlib's own
 * algorithm gives its bytes: Node's zlib is Chromium's fork, whose output differs for most
 * inputs. It is about twice as fast as pako's JavaScript port of zlib, which the builder used
 * before; test/wheel/parity.test.ts compares its output with CPython's zlib.
 */
import { readFileSync } from 'node:fs';

interface ZlibExports {
  memory: { buffer: ArrayBuffer };
  init(): number;
  scratch(bytes: number): number;
  deflate_raw(input: number, inputLength: number, output: number, outputCapacity: number): number;
}

// The project's TypeScript libs do not declare the WebAssembly global; this is the part used here.
interface WebAssemblyApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: unknown };
}
const wasm = (globalThis as unknown as { WebAssembly: WebAssemblyApi }).WebAssembly;

let zlib: ZlibExports | undefined;

function instance(): ZlibExports {
  if (zlib === undefined) {
    const module = new wasm.Module(readFileSync(new URL('./zlib/deflate.wasm', import.meta.url)));
    const exports = new wasm.Instance(module, {}).exports as unknown as ZlibExports;
    const rc = exports.init();
    if (rc !== 0) throw new Error(`zlib deflateInit2 failed: ${rc}`);
    zlib = exports;
  }
  return zlib;
}

/** zlib's raw deflate at level 6, 15-bit window, memLevel 8, default strategy (what CPython's zipfile asks for). */
export function deflateRaw(data: Uint8Array): Uint8Array {
  const z = instance();
  // Above deflate's worst case (stored blocks: 5 bytes per 16 KiB, plus a few).
  const capacity = data.length + (data.length >>> 3) + 64;
  const input = z.scratch(data.length + capacity) >>> 0;
  if (input === 0) throw new RangeError(`no memory to deflate ${data.length} bytes`);
  const output = input + data.length;
  // memory.buffer is read after scratch(), which may have grown (and so replaced) it.
  new Uint8Array(z.memory.buffer, input, data.length).set(data);
  const n = z.deflate_raw(input, data.length, output, capacity);
  if (n < 0) throw new Error(`zlib deflate failed on ${data.length} bytes`);
  return new Uint8Array(z.memory.buffer, output, n).slice();
}
