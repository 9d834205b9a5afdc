/**
 * A fuzz case: raw bytes, or a corpus entry and the mutations to apply to it; `signed` cases
 * are first given real signatures by the target (its `prepare`), so mutating them shows that a
 * changed signed part never verifies. The fast-check arbitraries that generate cases live here.
 */
import fc from 'fast-check';
import { applyByteOp, type ByteOp } from './bytes.ts';
import { applyStructOp, STRUCT_KINDS, type Format, type StructOp } from './structure.ts';

export type Op = ByteOp | StructOp;

export type FuzzCase =
  | { kind: 'raw'; bytes: Uint8Array }
  | { kind: 'mutant'; seed: number; ops: Op[]; signed: boolean };

/** The bytes of a case, given the (possibly prepared) seed it starts from. */
export function applyOps(seed: Uint8Array, ops: readonly Op[], format: Format, corpus: readonly Uint8Array[]): Uint8Array {
  let data = seed;
  for (const op of ops) data = op.op === 'struct' ? applyStructOp(data, op, format) : applyByteOp(data, op, corpus);
  return data;
}

const position = fc.nat({ max: 1 << 20 });

export const byteOp: fc.Arbitrary<ByteOp> = fc.oneof(
  fc.record({ op: fc.constant('flip' as const), at: position, bit: fc.nat({ max: 7 }) }),
  fc.record({ op: fc.constant('set' as const), at: position, byte: fc.nat({ max: 255 }) }),
  fc.record({ op: fc.constant('truncate' as const), at: position }),
  fc.record({ op: fc.constant('delete' as const), at: position, len: fc.nat({ max: 63 }) }),
  fc.record({ op: fc.constant('insert' as const), at: position, token: fc.nat({ max: 1000 }) }),
  fc.record({ op: fc.constant('splice' as const), at: position, other: fc.nat({ max: 1000 }), from: position, len: fc.nat({ max: 255 }) }),
  fc.record({ op: fc.constant('repeat' as const), at: position, len: fc.nat({ max: 63 }), times: fc.nat({ max: 1023 }) }),
);

export const structOp: fc.Arbitrary<StructOp> = fc.record({
  op: fc.constant('struct' as const),
  kind: fc.constantFrom(...STRUCT_KINDS),
  node: fc.nat({ max: 1 << 16 }),
  arg: fc.nat({ max: 1 << 16 }),
});

/** Raw bytes and text, mutants of the corpus (byte-level, structure-aware, mixed) and, when the target signs, signed mutants. */
export function caseArbitrary(corpusSize: number, signs: boolean): fc.Arbitrary<FuzzCase> {
  const seed = fc.nat({ max: Math.max(0, corpusSize - 1) });
  const mutant = (ops: fc.Arbitrary<Op[]>, signed: boolean) => fc.record({ kind: fc.constant('mutant' as const), seed, ops, signed: fc.constant(signed) });
  const raw = fc.oneof(
    fc.uint8Array({ maxLength: 2048 }),
    fc.string({ unit: 'binary', maxLength: 512 }).map((s) => new TextEncoder().encode(s)),
  ).map((bytes) => ({ kind: 'raw' as const, bytes }));
  const arbs: fc.WeightedArbitrary<FuzzCase>[] = [{ arbitrary: raw, weight: 1 }];
  if (corpusSize > 0) {
    arbs.push(
      { arbitrary: mutant(fc.array(byteOp, { minLength: 1, maxLength: 8 }), false), weight: 4 },
      { arbitrary: mutant(fc.array(structOp, { minLength: 1, maxLength: 4 }), false), weight: 4 },
      { arbitrary: mutant(fc.array(fc.oneof(byteOp, structOp), { minLength: 1, maxLength: 6 }), false), weight: 2 },
    );
    if (signs) arbs.push({ arbitrary: mutant(fc.array(fc.oneof(structOp, byteOp), { minLength: 1, maxLength: 4 }), true), weight: 3 });
  }
  return fc.oneof(...arbs);
}

/** One line for a report: what the case is made of. */
export function describeCase(c: FuzzCase, corpusNames: readonly string[]): string {
  if (c.kind === 'raw') return `raw ${c.bytes.length} bytes`;
  return `${c.signed ? 'signed ' : ''}${corpusNames[c.seed] ?? `seed #${c.seed}`} + ${JSON.stringify(c.ops)}`;
}
