// The two passes of resample.ts as WebAssembly SIMD kernels, four 32-bit lanes at a
// time: in the horizontal pass the lanes are one pixel's R, G, B (and a spare), in the
// vertical pass sixteen consecutive bytes of a row. They do exactly the integer sums of
// the scalar code (same 22-bit weights, same int32 accumulators, same shift and clamp),
// so the output is bit-identical; tests compare the two on many shapes. This is where a
// training sample's time went (about half of it in plain JavaScript), hence the effort.
//
// The module is assembled here from opcodes (wasm-asm.ts), which keeps the project free
// of a WebAssembly toolchain. Every function reads and writes only inside the caller's
// layout; loads (and the vertical pass's stores) may run up to 15 bytes past a row, so
// buffers carry padding.

import { Arena, I32, V128, OP, V, get, set, i32, simd, mem, add, mul, loadI32, forLoop, loopOn, moduleBytes, instantiate, type Code } from './wasm-asm.ts';

export { Arena };

/** Pillow's PRECISION_BITS and the rounding offset the accumulators start from. */
const SHIFT = 22;
const HALF = 1 << (SHIFT - 1);

// ---------------------------------------------------------------- the kernels

// hpass(src, srcStride, rows, outW, bounds, weights, ksizeBytes, dst)
// For each of `rows` rows and each output pixel: sum count taps of 3-byte pixels
// starting at bounds[2x] pixels from src, weights weights[x*ksize ...]. Rows go in
// groups of ROWS_PER_GROUP: every row of a group uses the same taps and weights, so each
// weight is loaded and splatted once for all of them, and the sums are independent
// chains; the last rows that do not fill a group go one at a time.
const ROWS_PER_GROUP = 4;

function hpass(): { locals: [number, number][]; body: Code } {
  const [src, srcStride, rows, outW, bounds, weights, kBytes, dst] = [0, 1, 2, 3, 4, 5, 6, 7];
  const [r, x, t, count, p, wp, srow, drow, outBytes] = [8, 9, 10, 11, 12, 13, 14, 15, 16];
  const w = 17;
  const acc = (k: number) => 18 + k; // one v128 accumulator per row of a group
  const pixel = (at: Code): Code => [...at, ...simd(V.load32Zero, ...mem(0)), ...simd(V.extLow8u), ...simd(V.extLow16u)];
  const mac = (a: number, at: Code): Code => [...get(a), ...pixel(at), ...get(w), ...simd(V.mul32), ...simd(V.add32), ...set(a)];
  const rowOffset = (k: number): Code => (k === 0 ? get(p) : add(get(p), mul(get(srcStride), i32(k))));
  const tap = (n: number): Code => [
    ...loadI32(get(wp)), ...simd(V.splat32), ...set(w),
    ...Array.from({ length: n }, (_, k) => mac(acc(k), rowOffset(k))).flat(),
    ...add(get(p), i32(3)), ...set(p), ...add(get(wp), i32(4)), ...set(wp),
  ];
  // (acc >> 22), then two saturating narrows (i32 -> u16 -> u8) clamp to 0..255; store exactly
  // 3 bytes (2 + 1): a 4-byte store would spill into the next row's first pixel, which the
  // group has already written.
  const store = (a: number, to: Code): Code => [
    ...get(a), ...i32(SHIFT), ...simd(V.shrS32), ...set(a),
    ...get(a), ...get(a), ...simd(V.narrow32to16u), ...set(a),
    ...get(a), ...get(a), ...simd(V.narrow16to8u), ...set(a),
    ...to, ...get(a), ...simd(V.store16Lane, 0, 0, 0),
    ...to, ...get(a), ...simd(V.store8Lane, 0, 2, 2), // memarg offset 2, lane 2
  ];
  const out = (k: number): Code => add(get(drow), mul(get(x), i32(3)), mul(get(outBytes), i32(k)));
  const pixels = (n: number): Code => [
    ...loadI32(add(get(bounds), mul(get(x), i32(8)), i32(4))), ...set(count),
    ...add(get(srow), mul(loadI32(add(get(bounds), mul(get(x), i32(8)))), i32(3))), ...set(p),
    ...add(get(weights), mul(get(x), get(kBytes))), ...set(wp),
    ...Array.from({ length: n }, (_, k) => [...i32(HALF), ...simd(V.splat32), ...set(acc(k))]).flat(),
    ...forLoop(t, get(count), tap(n)),
    ...Array.from({ length: n }, (_, k) => store(acc(k), out(k))).flat(),
  ];
  const rowStart: Code = [
    ...add(get(src), mul(get(r), get(srcStride))), ...set(srow),
    ...add(get(dst), mul(get(r), get(outBytes))), ...set(drow),
  ];
  const G = ROWS_PER_GROUP;
  return { locals: [[9, I32], [1 + G, V128]], body: [
    ...mul(get(outW), i32(3)), ...set(outBytes),
    // whole groups while r + G <= rows, i.e. r < rows - (G - 1)
    ...forLoop(r, [...get(rows), ...i32(G - 1), OP.sub], [...rowStart, ...forLoop(x, get(outW), pixels(G))], G),
    ...loopOn(r, get(rows), [...rowStart, ...forLoop(x, get(outW), pixels(1))]),
  ] };
}

// vpass(mid, midStride, outH, rowBytes, bounds, weights, ksizeBytes, dst)
// For each output row: sum count rows of `mid` starting at row bounds[2y], sixteen
// bytes at a time across the row.
function vpass(): { locals: [number, number][]; body: Code } {
  const [mid, midStride, outH, rowBytes, bounds, weights, kBytes, dst] = [0, 1, 2, 3, 4, 5, 6, 7];
  const [y, x, t, count, p, wp, base, drow] = [8, 9, 10, 11, 12, 13, 14, 15];
  const [w, a0, a1, a2, a3, v, lo, hi] = [16, 17, 18, 19, 20, 21, 22, 23];
  const half = [...i32(HALF), ...simd(V.splat32)];
  const macc = (a: number, half16: number, ext: number): Code => [
    ...get(a), ...get(half16), ...simd(ext), ...get(w), ...simd(V.mul32), ...simd(V.add32), ...set(a),
  ];
  const tap: Code = [
    ...loadI32(get(wp)), ...simd(V.splat32), ...set(w),
    ...get(p), ...simd(V.load, ...mem(0)), ...set(v),
    ...get(v), ...simd(V.extLow8u), ...set(lo),
    ...get(v), ...simd(V.extHigh8u), ...set(hi),
    ...macc(a0, lo, V.extLow16u), ...macc(a1, lo, V.extHigh16u),
    ...macc(a2, hi, V.extLow16u), ...macc(a3, hi, V.extHigh16u),
    ...add(get(p), get(midStride)), ...set(p),
    ...add(get(wp), i32(4)), ...set(wp),
  ];
  const shifted = (a: number): Code => [...get(a), ...i32(SHIFT), ...simd(V.shrS32)];
  const perChunk: Code = [
    ...half, ...set(a0), ...half, ...set(a1), ...half, ...set(a2), ...half, ...set(a3),
    ...add(get(base), get(x)), ...set(p),
    ...add(get(weights), mul(get(y), get(kBytes))), ...set(wp),
    ...forLoop(t, get(count), tap),
    ...add(get(drow), get(x)),
    ...shifted(a0), ...shifted(a1), ...simd(V.narrow32to16u),
    ...shifted(a2), ...shifted(a3), ...simd(V.narrow32to16u),
    ...simd(V.narrow16to8u),
    ...simd(V.store, ...mem(0)),
  ];
  const perRow: Code = [
    ...loadI32(add(get(bounds), mul(get(y), i32(8)), i32(4))), ...set(count),
    ...add(get(mid), mul(loadI32(add(get(bounds), mul(get(y), i32(8)))), get(midStride))), ...set(base),
    ...add(get(dst), mul(get(y), get(rowBytes))), ...set(drow),
    ...forLoop(x, get(rowBytes), perChunk, 16),
  ];
  return { locals: [[8, I32], [8, V128]], body: forLoop(y, get(outH), perRow) };
}

// ---------------------------------------------------------------- the JS side

export interface SimdKernels {
  memory: WebAssembly.Memory;
  hpass: (src: number, srcStride: number, rows: number, outW: number, bounds: number, weights: number, kBytes: number, dst: number) => void;
  vpass: (mid: number, midStride: number, outH: number, rowBytes: number, bounds: number, weights: number, kBytes: number, dst: number) => void;
}

let kernels: SimdKernels | null | undefined;

const I32x8 = [I32, I32, I32, I32, I32, I32, I32, I32];

/** The kernels, or null where WebAssembly SIMD is unavailable (then the scalar code runs). */
export function simdKernels(): SimdKernels | null {
  if (kernels !== undefined) return kernels;
  // RSB_NO_SIMD=1 forces the scalar path (for comparisons and debugging).
  const e = instantiate(moduleBytes([
    { name: 'hpass', params: I32x8, results: [], ...hpass() },
    { name: 'vpass', params: I32x8, results: [], ...vpass() },
  ])) as unknown as (SimdKernels & { mem: WebAssembly.Memory }) | null;
  kernels = e && { memory: e.mem, hpass: e.hpass, vpass: e.vpass };
  return kernels;
}
