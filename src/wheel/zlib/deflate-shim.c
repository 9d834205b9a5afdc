/*
 * The WebAssembly face of zlib's deflate for src/wheel/zlib-deflate.ts: one raw-deflate stream
 * with the parameters CPython's zipfile uses, reset for every zip entry. No libc: a bump
 * allocator serves deflateInit2's one-time allocations, and memcpy/memset lower to the
 * bulk-memory instructions.
 */
#include "zlib.h"

extern unsigned char __heap_base;
static unsigned long heap_top;

static unsigned long align16(unsigned long p) { return (p + 15) & ~15UL; }

/* Grows linear memory so that [0, end) is addressable; 0 when the engine refuses. */
static int reserve(unsigned long end) {
  unsigned long have = __builtin_wasm_memory_size(0) * 65536UL;
  if (end <= have) return 1;
  return __builtin_wasm_memory_grow(0, (end - have + 65535) / 65536) != (unsigned long)-1;
}

static voidpf bump_alloc(voidpf opaque, uInt items, uInt size) {
  (void)opaque;
  if (heap_top == 0) heap_top = align16((unsigned long)&__heap_base);
  unsigned long p = heap_top;
  unsigned long end = p + align16((unsigned long)items * size);
  if (!reserve(end)) return Z_NULL;
  heap_top = end;
  return (voidpf)p;
}

/* Nothing is freed: the stream lives as long as the instance. */
static void bump_free(voidpf opaque, voidpf ptr) { (void)opaque; (void)ptr; }

void *memcpy(void *d, const void *s, unsigned long n) { __builtin_memcpy(d, s, n); return d; }
void *memset(void *d, int c, unsigned long n) { __builtin_memset(d, c, n); return d; }

static z_stream strm;

/* Level 6 (Z_DEFAULT_COMPRESSION), raw (windowBits -15), memLevel 8, default strategy. */
int init(void) {
  strm.zalloc = bump_alloc;
  strm.zfree = bump_free;
  return deflateInit2(&strm, 6, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY);
}

/* The address of `bytes` bytes of caller scratch space past zlib's heap (reused by every call), or 0. */
unsigned long scratch(unsigned long bytes) {
  unsigned long p = align16(heap_top ? heap_top : (unsigned long)&__heap_base);
  return reserve(p + bytes) ? p : 0;
}

/* Deflates in[0, inLen) into out[0, outCap) in one Z_FINISH call: the compressed size, or -1. */
long deflate_raw(unsigned char *in, unsigned long inLen, unsigned char *out, unsigned long outCap) {
  if (deflateReset(&strm) != Z_OK) return -1;
  strm.next_in = in;
  strm.avail_in = (uInt)inLen;
  strm.next_out = out;
  strm.avail_out = (uInt)outCap;
  if (deflate(&strm, Z_FINISH) != Z_STREAM_END) return -1;
  return (long)strm.total_out;
}
