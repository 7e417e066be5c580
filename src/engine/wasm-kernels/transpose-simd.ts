// A matrix transpose as a WebAssembly SIMD kernel, for ./heap-module.ts.
//
// dst[j, i] = src[i, j] for a rows x cols block, with row strides of its own on both sides, so
// one kernel serves a whole matrix and a strided window written into part of a bigger one
// (the conv filter gradient's im2col^T). 4 x 4 blocks go through registers: four 16-byte loads,
// eight shuffles, four 16-byte stores, where the JavaScript tile loop (compose.ts transposeInto)
// moves one float at a time. The blocks walk 16 x 16 tiles so every written cache line is filled
// while it is in L1. The edges (rows or cols not a multiple of 4) are plain scalar loops.
import { I32, Locals, OP, V, forLoop, get, i32, loopOn, mem, set, shuffle, simd, tee, type Code, type WasmFunction } from '../../data/transforms/wasm-asm.ts';

const TILE = 16;
/** lanes (0, 1) of a interleaved with (0, 1) of b: a0 b0 a1 b1 */
const LO_PAIRS = [0, 1, 2, 3, 16, 17, 18, 19, 4, 5, 6, 7, 20, 21, 22, 23];
/** lanes (2, 3) of a interleaved with (2, 3) of b: a2 b2 a3 b3 */
const HI_PAIRS = [8, 9, 10, 11, 24, 25, 26, 27, 12, 13, 14, 15, 28, 29, 30, 31];
/** low halves: a0 a1 b0 b1 */
const LO_HALVES = [0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23];
/** high halves: a2 a3 b2 b3 */
const HI_HALVES = [8, 9, 10, 11, 12, 13, 14, 15, 24, 25, 26, 27, 28, 29, 30, 31];

export function transposeKernel(): WasmFunction {
  const [src, ss, dst, ds, rows, cols] = [0, 1, 2, 3, 4, 5];
  const L = new Locals(6);
  const rows4 = L.i32(), cols4 = L.i32(), i0 = L.i32(), j0 = L.i32(), i = L.i32(), j = L.i32();
  const iEnd = L.i32(), jEnd = L.i32(), p = L.i32(), q = L.i32();
  const a = [L.v128(), L.v128(), L.v128(), L.v128()];
  const t = [L.v128(), L.v128(), L.v128(), L.v128()];
  const load = (): Code => simd(V.load, ...mem(2));
  const store = (): Code => simd(V.store, ...mem(2));
  /** min(counter + TILE, limit) into `into` */
  const tileEnd = (counter: number, limit: number, into: number): Code => [
    ...get(counter), ...i32(TILE), OP.add, ...tee(into), ...get(limit), ...get(into), ...get(limit), OP.ltS, OP.select, ...set(into),
  ];
  const block: Code = [
    // four source rows i..i+3 at column j
    ...get(src), ...get(i), ...get(ss), OP.mul, OP.add, ...get(j), ...i32(2), OP.shl, OP.add, ...tee(p), ...load(), ...set(a[0]),
    ...get(p), ...get(ss), OP.add, ...tee(p), ...load(), ...set(a[1]),
    ...get(p), ...get(ss), OP.add, ...tee(p), ...load(), ...set(a[2]),
    ...get(p), ...get(ss), OP.add, ...load(), ...set(a[3]),
    ...get(a[0]), ...get(a[1]), ...shuffle(LO_PAIRS), ...set(t[0]), // a00 a10 a01 a11
    ...get(a[0]), ...get(a[1]), ...shuffle(HI_PAIRS), ...set(t[1]), // a02 a12 a03 a13
    ...get(a[2]), ...get(a[3]), ...shuffle(LO_PAIRS), ...set(t[2]), // a20 a30 a21 a31
    ...get(a[2]), ...get(a[3]), ...shuffle(HI_PAIRS), ...set(t[3]), // a22 a32 a23 a33
    // four destination rows j..j+3 at column i
    ...get(dst), ...get(j), ...get(ds), OP.mul, OP.add, ...get(i), ...i32(2), OP.shl, OP.add, ...tee(q),
    ...get(t[0]), ...get(t[2]), ...shuffle(LO_HALVES), ...store(),
    ...get(q), ...get(ds), OP.add, ...tee(q), ...get(t[0]), ...get(t[2]), ...shuffle(HI_HALVES), ...store(),
    ...get(q), ...get(ds), OP.add, ...tee(q), ...get(t[1]), ...get(t[3]), ...shuffle(LO_HALVES), ...store(),
    ...get(q), ...get(ds), OP.add, ...get(t[1]), ...get(t[3]), ...shuffle(HI_HALVES), ...store(),
  ];
  const scalar: Code = [
    ...get(dst), ...get(j), ...get(ds), OP.mul, OP.add, ...get(i), ...i32(2), OP.shl, OP.add,
    ...get(src), ...get(i), ...get(ss), OP.mul, OP.add, ...get(j), ...i32(2), OP.shl, OP.add,
    OP.f32Load, ...mem(2), OP.f32Store, ...mem(2),
  ];
  const body: Code = [
    ...get(rows), ...i32(-4), OP.and, ...set(rows4),
    ...get(cols), ...i32(-4), OP.and, ...set(cols4),
    ...forLoop(i0, get(rows4), [
      ...tileEnd(i0, rows4, iEnd),
      ...forLoop(j0, get(cols4), [
        ...tileEnd(j0, cols4, jEnd),
        ...get(i0), ...set(i),
        ...loopOn(i, get(iEnd), [...get(j0), ...set(j), ...loopOn(j, get(jEnd), block, 4)], 4),
      ], TILE),
    ], TILE),
    // the right edge (columns cols4..cols) of every row, then the bottom edge (rows rows4..rows)
    ...forLoop(i, get(rows), [...get(cols4), ...set(j), ...loopOn(j, get(cols), scalar)]),
    ...get(rows4), ...set(i),
    ...loopOn(i, get(rows), forLoop(j, get(cols4), scalar)),
  ];
  return { name: 'transpose', params: [I32, I32, I32, I32, I32, I32], results: [], locals: L.decl(), body };
}
