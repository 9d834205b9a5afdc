// Types for the two pako internals the zip writer drives directly (pako ships no types for them).
declare module 'pako/lib/zlib/zstream.js' {
  class ZStream {
    input: Uint8Array | null;
    next_in: number;
    avail_in: number;
    output: Uint8Array | null;
    next_out: number;
    avail_out: number;
    msg: string;
  }
  export default ZStream;
}

declare module 'pako/lib/zlib/deflate.js' {
  import type ZStream from 'pako/lib/zlib/zstream.js';
  const deflate: {
    deflateInit2(strm: ZStream, level: number, method: number, windowBits: number, memLevel: number, strategy: number, legacyHash?: boolean): number;
    deflateReset(strm: ZStream): number;
    deflate(strm: ZStream, flush: number): number;
    deflateEnd(strm: ZStream): number;
  };
  export default deflate;
}
