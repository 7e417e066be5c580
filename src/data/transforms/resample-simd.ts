// The two passes of resample.ts as WebAssembly SIMD kernels, four 32-bit lanes at a
// time: in the horizontal pass the lanes are one pixel's R, G, B (and a spare), in the
// vertical pass sixteen consecutive bytes of a row. They do exactly the integer sums of
// the scalar code (same 22-bit weights, same int32 accumulators, same shift and clamp),
// so the output is bit-identical; tests compare the two on many shapes. This is where a
// training sample's time went (about half of it in plain JavaScript), hence the effort.
//
// The module is small enough to assemble here from opcodes, which keeps the project free
// of a WebAssembly toolchain. Every function reads and writes only inside the caller's
// layout; loads (and the vertical pass's stores) may run up to 15 bytes past a row, so
// buffers carry padding.

// ---------------------------------------------------------------- a tiny assembler

const I32 = 0x7f, V128 = 0x7b;
const OP = {
  block: 0x02, loop: 0x03, if: 0x04, end: 0x0b, br: 0x0c, brIf: 0x0d, get: 0x20, set: 0x21, tee: 0x22,
  load: 0x28, const: 0x41, ltS: 0x48, geS: 0x4e, add: 0x6a, sub: 0x6b, mul: 0x6c,
} as const;
/** SIMD opcodes (after the 0xfd prefix). */
const V = {
  load: 0, store: 11, splat32: 17, store8Lane: 88, store16Lane: 89, store32Lane: 90, load32Zero: 92, narrow16to8u: 102,
  narrow32to16u: 134, extLow8u: 137, extHigh8u: 138, extLow16u: 169, extHigh16u: 170,
  shrS32: 172, add32: 174, mul32: 181,
} as const;

function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n) b |= 0x80;
    out.push(b);
  } while (n);
  return out;
}

function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && !(b & 0x40)) || (n === -1 && b & 0x40)) {
      out.push(b);
      return out;
    }
    out.push(b | 0x80);
  }
}

type Code = number[];
const get = (i: number): Code => [OP.get, ...uleb(i)];
const set = (i: number): Code => [OP.set, ...uleb(i)];
const i32 = (c: number): Code => [OP.const, ...sleb(c)];
const simd = (op: number, ...imm: number[]): Code => [0xfd, ...uleb(op), ...imm];
const mem = (align: number): number[] => [align, 0]; // alignment hint (log2), offset 0
const add = (...terms: Code[]): Code => [...terms[0], ...terms.slice(1).flatMap((t) => [...t, OP.add])];
const mul = (a: Code, b: Code): Code => [...a, ...b, OP.mul];
const loadI32 = (addr: Code): Code => [...addr, OP.load, ...mem(2)];

/** for (counter = 0; counter < limit; counter += step) body; the counter is left at the first value >= limit */
function forLoop(counter: number, limit: Code, body: Code, step = 1): Code {
  return [...i32(0), ...set(counter), ...loopOn(counter, limit, body, step)];
}

/** for (; counter < limit; counter += step) body: carries on from the counter's value */
function loopOn(counter: number, limit: Code, body: Code, step = 1): Code {
  return [
    OP.block, 0x40, OP.loop, 0x40,
    ...get(counter), ...limit, OP.geS, OP.brIf, 1,
    ...body,
    ...get(counter), ...i32(step), OP.add, ...set(counter),
    OP.br, 0, OP.end, OP.end,
  ];
}

/** Pillow's PRECISION_BITS and the rounding offset the accumulators start from. */
const SHIFT = 22;
const HALF = 1 << (SHIFT - 1);

/** A function body: its extra locals as (count, type) runs, then the code. */
function func(locals: [number, number][], body: Code): Code {
  const decl = [...uleb(locals.length), ...locals.flatMap(([n, t]) => [...uleb(n), t])];
  const code = [...decl, ...body, OP.end];
  return [...uleb(code.length), ...code];
}

function section(id: number, content: Code): Code {
  return [id, ...uleb(content.length), ...content];
}

function vec(items: Code[]): Code {
  return [...uleb(items.length), ...items.flat()];
}

function name(s: string): Code {
  const b = [...new TextEncoder().encode(s)];
  return [...uleb(b.length), ...b];
}

// ---------------------------------------------------------------- the kernels

// hpass(src, srcStride, rows, outW, bounds, weights, ksizeBytes, dst)
// For each of `rows` rows and each output pixel: sum count taps of 3-byte pixels
// starting at bounds[2x] pixels from src, weights weights[x*ksize ...]. Rows go in
// groups of ROWS_PER_GROUP: every row of a group uses the same taps and weights, so each
// weight is loaded and splatted once for all of them, and the sums are independent
// chains; the last rows that do not fill a group go one at a time.
const ROWS_PER_GROUP = 4;

function hpass(): Code {
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
  return func([[9, I32], [1 + G, V128]], [
    ...mul(get(outW), i32(3)), ...set(outBytes),
    // whole groups while r + G <= rows, i.e. r < rows - (G - 1)
    ...forLoop(r, [...get(rows), ...i32(G - 1), OP.sub], [...rowStart, ...forLoop(x, get(outW), pixels(G))], G),
    ...loopOn(r, get(rows), [...rowStart, ...forLoop(x, get(outW), pixels(1))]),
  ]);
}

// vpass(mid, midStride, outH, rowBytes, bounds, weights, ksizeBytes, dst)
// For each output row: sum count rows of `mid` starting at row bounds[2y], sixteen
// bytes at a time across the row.
function vpass(): Code {
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
  return func([[8, I32], [8, V128]], forLoop(y, get(outH), perRow));
}

function moduleBytes(): Uint8Array<ArrayBuffer> {
  const sig = [0x60, ...uleb(8), ...Array(8).fill(I32), 0]; // (i32 x 8) -> ()
  const bytes = [
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, vec([sig])),
    ...section(3, vec([[0], [0]])),
    ...section(5, vec([[0x00, ...uleb(16)]])), // memory: 16 pages to start, grown on demand
    ...section(7, vec([
      [...name('mem'), 0x02, 0],
      [...name('hpass'), 0x00, 0],
      [...name('vpass'), 0x00, 1],
    ])),
    ...section(10, vec([hpass(), vpass()])),
  ];
  return new Uint8Array(bytes);
}

// ---------------------------------------------------------------- the JS side

export interface SimdKernels {
  memory: WebAssembly.Memory;
  hpass: (src: number, srcStride: number, rows: number, outW: number, bounds: number, weights: number, kBytes: number, dst: number) => void;
  vpass: (mid: number, midStride: number, outH: number, rowBytes: number, bounds: number, weights: number, kBytes: number, dst: number) => void;
}

let kernels: SimdKernels | null | undefined;

/** The kernels, or null where WebAssembly SIMD is unavailable (then the scalar code runs). */
export function simdKernels(): SimdKernels | null {
  if (kernels !== undefined) return kernels;
  kernels = null;
  try {
    // RSB_NO_SIMD=1 forces the scalar path (for comparisons and debugging).
    if ((globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.RSB_NO_SIMD === '1') return kernels;
    const bytes = moduleBytes();
    if (typeof WebAssembly === 'undefined' || !WebAssembly.validate(bytes)) return kernels;
    const inst = new WebAssembly.Instance(new WebAssembly.Module(bytes), {});
    const e = inst.exports as unknown as SimdKernels & { mem: WebAssembly.Memory };
    kernels = { memory: e.mem, hpass: e.hpass, vpass: e.vpass };
  } catch {
    kernels = null;
  }
  return kernels;
}

/** Bump allocator over the module's memory for one call; grows the memory as needed. */
export class Arena {
  private top = 0;
  constructor(private readonly k: SimdKernels) {}

  /** Reserves `bytes` (+16 bytes of slack for over-wide loads and stores), 16-aligned. */
  alloc(bytes: number): number {
    const at = this.top;
    this.top = (at + bytes + 16 + 15) & ~15;
    const need = this.top - this.k.memory.buffer.byteLength;
    if (need > 0) this.k.memory.grow(Math.ceil(need / 65536));
    return at;
  }

  bytes(at: number, length: number): Uint8Array {
    return new Uint8Array(this.k.memory.buffer, at, length);
  }

  ints(at: number, length: number): Int32Array {
    return new Int32Array(this.k.memory.buffer, at, length);
  }
}
