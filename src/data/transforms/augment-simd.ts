// RandAugment's per-image kernels in WebAssembly (assembled by wasm-asm.ts), each doing
// exactly the arithmetic of the JavaScript it stands in for, so the bytes are identical
// (tests compare them on many random images, sizes and magnitudes):
//   lut      one 256-entry table per channel (Invert, Posterize, Solarize, SolarizeAdd,
//            AutoContrast, Equalize, Brightness, Contrast): a byte loop without the
//            typed-array checks V8 keeps in the JavaScript one
//   hist     the three channel histograms (AutoContrast, Equalize)
//   lumaSum  the sum of Pillow's L over the image (Contrast's mean)
//   color    Color: each pixel's L, then the blend 16 bytes at a time in float32 lanes
//   sharpen  Sharpness: SMOOTH and the blend, 16 bytes at a time (integer sums in
//            16-bit lanes, the blend in float32 lanes, which round as Math.fround does)
//   affine   the affine warp (Rotate, ShearX/Y, TranslateX), one pixel per step with R, G, B
//            in float64 lanes: float64 arithmetic rounds as JavaScript's does, and the
//            cubic's sums of whole bytes are exact in int32 lanes. Pixels whose taps
//            cross an edge are listed for the JavaScript samplers (Pillow's edge rules).
//   rows     TranslateY: whole-row blends with one offset per row, 16 bytes at a time
// Why: with the fast decoder, RandAugment became the largest cost of a training sample.
// Each call copies the image into the module's memory and the result out (~6 us for a
// 224x224 picture), small against the ops.
import {
  Arena, FC, F32, F64, I32, Locals, OP, V, add, f64, fc, forLoop, get, i32, ifElse, instantiate, loopOn, mem, moduleBytes,
  set, shuffle, simd, tee, type Code, type WasmFunction,
} from './wasm-asm.ts';

// ---------------------------------------------------------------- lookup tables and sums

/** lut(src, dst, n, tables): dst[p] = tables[256 * (p % 3) + src[p]]; n a multiple of 3; dst may be src */
function lutKernel(): WasmFunction {
  const [src, dst, n, tab] = [0, 1, 2, 3];
  const L = new Locals(4);
  const s = L.i32(), d = L.i32(), end = L.i32();
  const byte = (k: number): Code => [
    ...get(d), ...get(tab), ...get(s), OP.load8u, ...mem(0, k), OP.add, OP.load8u, ...mem(0, (k % 3) * 256), OP.store8, ...mem(0, k),
  ];
  const advance = (step: number): Code => [...get(d), ...i32(step), OP.add, ...set(d)];
  return {
    name: 'lut', params: [I32, I32, I32, I32], results: [], locals: L.decl(),
    body: [
      ...get(src), ...set(s), ...get(dst), ...set(d),
      // four pixels (12 bytes) per step while they fit, then one pixel at a time
      ...add(get(src), get(n), i32(-11)), ...set(end),
      ...loopOn(s, get(end), [...Array.from({ length: 12 }, (_, k) => byte(k)).flat(), ...advance(12)], 12),
      ...add(get(src), get(n)), ...set(end),
      ...loopOn(s, get(end), [...byte(0), ...byte(1), ...byte(2), ...advance(3)], 3),
    ],
  };
}

/** hist(src, n, hists): hists (3 x 256 int32, zeroed by the caller) += each channel's counts */
function histKernel(): WasmFunction {
  const [src, n, hists] = [0, 1, 2];
  const L = new Locals(3);
  const s = L.i32(), end = L.i32(), a = L.i32();
  const byte = (k: number): Code => [
    ...get(s), OP.load8u, ...mem(0, k), ...i32(2), OP.shl, ...get(hists), OP.add, ...tee(a),
    ...get(a), OP.load, ...mem(2, (k % 3) * 1024), ...i32(1), OP.add, OP.store, ...mem(2, (k % 3) * 1024),
  ];
  return {
    name: 'hist', params: [I32, I32, I32], results: [], locals: L.decl(),
    body: [
      ...get(src), ...set(s),
      ...add(get(src), get(n), i32(-11)), ...set(end),
      ...loopOn(s, get(end), Array.from({ length: 12 }, (_, k) => byte(k)).flat(), 12),
      ...add(get(src), get(n)), ...set(end),
      ...loopOn(s, get(end), [...byte(0), ...byte(1), ...byte(2)], 3),
    ],
  };
}

/** Pillow's L of the pixel at local `s`: (19595 R + 38470 G + 7471 B + 0x8000) >> 16 */
const luma = (s: number): Code => [
  ...get(s), OP.load8u, ...mem(0, 0), ...i32(19595), OP.mul,
  ...get(s), OP.load8u, ...mem(0, 1), ...i32(38470), OP.mul, OP.add,
  ...get(s), OP.load8u, ...mem(0, 2), ...i32(7471), OP.mul, OP.add,
  ...i32(0x8000), OP.add, ...i32(16), OP.shrU,
];

/** lumaSum(src, n) -> sum of L over n / 3 pixels, as int32 (the caller keeps n / 3 <= 2^23) */
function lumaSumKernel(): WasmFunction {
  const [src, n] = [0, 1];
  const L = new Locals(2);
  const s = L.i32(), end = L.i32(), acc = L.i32();
  return {
    name: 'lumaSum', params: [I32, I32], results: [I32], locals: L.decl(),
    body: [
      ...get(src), ...set(s), ...add(get(src), get(n)), ...set(end),
      ...loopOn(s, get(end), [...get(acc), ...luma(s), OP.add, ...set(acc)], 3),
      ...get(acc),
    ],
  };
}

/**
 * blend of int32x4 `dg` (the degenerate image) and `s` (the image) with factor lanes `fa`:
 * f32(dg + f32(factor * (s - dg))), truncated to int32 (saturating). The float32 lanes
 * round as Math.fround does: the product of a float32 and a small integer is exact in
 * float64, so JavaScript's rounding of it is this single rounding, and so is the sum's.
 */
const blendLanes = (dg: Code, s: Code, fa: number): Code => [
  ...dg, ...simd(V.f32ConvertS),
  ...get(fa), ...s, ...dg, ...simd(V.sub32), ...simd(V.f32ConvertS), ...simd(V.f32Mul),
  ...simd(V.f32Add), ...simd(V.truncSatF32S),
];

/**
 * color(src, dst, n, grey, factor): Color's blend with the greyscale image. First each
 * pixel's L is written to its three bytes of `grey` (n + 4 bytes), then the blend runs 16
 * bytes at a time over image and grey together; dst may be src. Needs 16 bytes of padding
 * after src, dst and grey.
 */
function colorKernel(): WasmFunction {
  const [src, dst, n, grey, factor] = [0, 1, 2, 3, 4];
  const L = new Locals(5);
  const s = L.i32(), end = L.i32(), p = L.i32();
  const fa = L.v128(), img = L.v128(), dg = L.v128();
  const r = [L.v128(), L.v128(), L.v128(), L.v128()];
  const group = (k: number): Code => {
    const e8 = k < 2 ? V.extLow8u : V.extHigh8u, e16 = k % 2 ? V.extHigh16u : V.extLow16u;
    return [...blendLanes([...get(dg), ...simd(e8), ...simd(e16)], [...get(img), ...simd(e8), ...simd(e16)], fa), ...set(r[k])];
  };
  return {
    name: 'color', params: [I32, I32, I32, I32, F32], results: [], locals: L.decl(),
    body: [
      ...get(factor), ...simd(V.f32Splat), ...set(fa),
      // L * 0x010101 as a 4-byte store: the fourth byte is overwritten by the next pixel
      ...get(src), ...set(s), ...add(get(src), get(n)), ...set(end),
      ...loopOn(s, get(end), [
        ...get(s), ...get(src), OP.sub, ...get(grey), OP.add,
        ...luma(s), ...i32(0x010101), OP.mul, OP.store, ...mem(0),
      ], 3),
      ...forLoop(p, get(n), [
        ...add(get(src), get(p)), ...simd(V.load, ...mem(0)), ...set(img),
        ...add(get(grey), get(p)), ...simd(V.load, ...mem(0)), ...set(dg),
        ...group(0), ...group(1), ...group(2), ...group(3),
        ...add(get(dst), get(p)),
        ...get(r[0]), ...get(r[1]), ...simd(V.narrow32to16u),
        ...get(r[2]), ...get(r[3]), ...simd(V.narrow32to16u),
        ...simd(V.narrow16to8u), ...simd(V.store, ...mem(0)),
      ], 16),
    ],
  };
}

// ---------------------------------------------------------------- Sharpness

/**
 * sharpen(src, dst, w, h, factor): Pillow's SMOOTH then blend(smooth, img, factor), for the
 * interior bytes; the border (first and last row, first and last pixel of each row) is
 * copied. Needs w, h >= 3 and 32 bytes of padding after both images. SMOOTH's byte is
 * floor((2n + 13) / 26) = floor((n + 6) / 13) for the integer 3x3 sum n (see enhance.ts),
 * computed as ((n + 6) * 5042) >> 16, exact for n <= 13 * 255 (a test checks every n).
 */
function sharpenKernel(): WasmFunction {
  const [src, dst, w, h, factor] = [0, 1, 2, 3, 4];
  const L = new Locals(5);
  const stride = L.i32(), y = L.i32(), x = L.i32(), row = L.i32(), c = L.i32(), end = L.i32(), last = L.i32();
  const fa = L.v128(), center = L.v128(), lo = L.v128(), hi = L.v128(), q = L.v128(), s32 = L.v128();
  const r = [L.v128(), L.v128(), L.v128(), L.v128()];
  // one group of four bytes: q = SMOOTH, then f32(q + f32(factor * (s - q))), truncated
  const group = (k: number): Code => {
    const from = k < 2 ? lo : hi;
    const ext = k % 2 ? V.extHigh16u : V.extLow16u;
    const centre8 = k < 2 ? V.extLow8u : V.extHigh8u;
    return [
      ...get(from), ...simd(ext), ...i32(6), ...simd(V.splat32), ...simd(V.add32),
      ...i32(5042), ...simd(V.splat32), ...simd(V.mul32), ...i32(16), ...simd(V.shrU32), ...set(q),
      ...get(center), ...simd(centre8), ...simd(ext), ...set(s32),
      ...blendLanes(get(q), get(s32), fa), ...set(r[k]),
    ];
  };
  const copy = (to: Code, from: Code, len: Code): Code => [...to, ...from, ...len, ...fc(FC.memoryCopy, 0, 0)];
  return {
    name: 'sharpen', params: [I32, I32, I32, I32, F32], results: [], locals: L.decl(),
    body: [
      ...get(factor), ...simd(V.f32Splat), ...set(fa),
      ...get(w), ...i32(3), OP.mul, ...set(stride),
      // the first row first: the interior's overhanging stores below land after it
      ...copy(get(dst), get(src), get(stride)),
      ...get(h), ...i32(1), OP.sub, ...set(last),
      ...i32(1), ...set(y),
      ...loopOn(y, get(last), [
        ...get(y), ...get(stride), OP.mul, ...set(row),
        ...get(stride), ...i32(3), OP.sub, ...set(end),
        ...i32(3), ...set(x),
        ...loopOn(x, get(end), [
          ...add(get(src), get(row), get(x)), ...set(c),
          ...get(c), ...simd(V.load, ...mem(0)), ...set(center),
          ...rowSums(c, stride, center, lo, V.extLow8u),
          ...rowSums(c, stride, center, hi, V.extHigh8u),
          ...group(0), ...group(1), ...group(2), ...group(3),
          ...add(get(dst), get(row), get(x)),
          ...get(r[0]), ...get(r[1]), ...simd(V.narrow32to16u),
          ...get(r[2]), ...get(r[3]), ...simd(V.narrow32to16u),
          ...simd(V.narrow16to8u), ...simd(V.store, ...mem(0)),
        ], 16),
      ]),
      // the last row, then each row's first and last pixel (the 16-byte stores overhang them)
      ...copy(add(get(dst), [...get(last), ...get(stride), OP.mul]), add(get(src), [...get(last), ...get(stride), OP.mul]), get(stride)),
      ...i32(1), ...set(y),
      ...loopOn(y, get(last), [
        ...get(y), ...get(stride), OP.mul, ...set(row),
        ...copy(add(get(dst), get(row)), add(get(src), get(row)), i32(3)),
        ...copy(add(get(dst), get(row), get(stride), i32(-3)), add(get(src), get(row), get(stride), i32(-3)), i32(3)),
      ]),
    ],
  };
}

/** lo/hi = the 16-bit 3x3 sums (centre weight 5) of the 8 bytes at c (low or high half) */
function rowSums(c: number, stride: number, center: number, into: number, ext: number): Code {
  const neighbour = (rowOff: Code, dx: number): Code => [
    ...get(c), ...rowOff, OP.add, ...(dx ? [...i32(dx), OP.add] : []), ...simd(V.load, ...mem(0)), ...simd(ext), ...simd(V.add16),
  ];
  const up: Code = [...i32(0), ...get(stride), OP.sub];
  const none: Code = i32(0);
  const down: Code = get(stride);
  return [
    ...get(center), ...simd(ext), ...i32(2), ...simd(V.shl16), // 4 * centre (the 5th is in the 3x3 sum)
    ...neighbour(up, -3), ...neighbour(up, 0), ...neighbour(up, 3),
    ...neighbour(none, -3), ...neighbour(none, 0), ...neighbour(none, 3),
    ...neighbour(down, -3), ...neighbour(down, 0), ...neighbour(down, 3),
    ...set(into),
  ];
}

// ---------------------------------------------------------------- the affine warp

/** lanes 2, 3 moved to 0, 1 (for the second float64x2 conversion); a float64x2's high lane in both */
const HIGH = [8, 9, 10, 11, 12, 13, 14, 15, 8, 9, 10, 11, 12, 13, 14, 15];
/** a float64x2's low lane in both */
const LOW = [0, 1, 2, 3, 4, 5, 6, 7, 0, 1, 2, 3, 4, 5, 6, 7];

/**
 * affine(src, w, h, dst, todo, fill, cubic, a, b, c, d, e, f) -> count.
 * Every output pixel (x, y) of the w x h image: input position xin = a*xc + b*yc + c,
 * yin = d*xc + e*yc + f at the pixel centre; outside the image it gets the fill colour
 * (R | G << 8 | B << 16); where the filter's taps are all inside, the interpolated value
 * (the same float64 expressions as geometric.ts, in the same order); elsewhere its byte
 * offset is appended to `todo` for the JavaScript samplers, and the count is returned.
 * Needs w, h >= 4 and 16 bytes of padding after the source.
 */
function affineKernel(): WasmFunction {
  const [src, w, h, dst, todo, fill, cubic, ma, mb, mc, md, me, mf] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12];
  const L = new Locals(13);
  const stride = L.i32(), x = L.i32(), y = L.i32(), o = L.i32(), cnt = L.i32(), ix = L.i32(), iy = L.i32(), base = L.i32(), row = L.i32();
  const zeros = L.i32();
  const zero = L.v128(), vx = L.v128(), vy = L.v128(), ld = L.v128();
  const mAD = L.v128(), mBE = L.v128(), mCF = L.v128(), wh = L.v128(), half = L.v128(), one = L.v128();
  const be = L.v128(), xcv = L.v128(), pv = L.v128(), fl = L.v128();
  const t = [L.v128(), L.v128(), L.v128(), L.v128()];
  const P = [L.v128(), L.v128(), L.v128(), L.v128()];
  // per row of the 4x4 block: the horizontal result, (R, G) and (B, 0) as float64x2
  const rg = [L.v128(), L.v128(), L.v128(), L.v128()];
  const bx = [L.v128(), L.v128(), L.v128(), L.v128()];
  const f1 = L.v128(), f2 = L.v128();

  const cvtLow = (v: Code): Code => [...v, ...simd(V.f64ConvertLowS)];
  const cvtHigh = (v: Code): Code => [...v, ...v, ...shuffle(HIGH), ...simd(V.f64ConvertLowS)];
  const fadd = simd(V.f64Add), fsub = simd(V.f64Sub), fmul = simd(V.f64Mul);
  // p1 + d * (p2 + d * (p3 + d * p4)) on float64x2 operands (Code each), d a local holding d in both lanes
  const horner = (p1: Code, p2: Code, p3: Code, p4: Code, d: number): Code => [
    ...p1, ...get(d), ...p2, ...get(d), ...p3, ...get(d), ...p4, ...fmul, ...fadd, ...fmul, ...fadd, ...fmul, ...fadd,
  ];
  // taps t0..t3 (int32 R, G, B, 0) -> the cubic's integer coefficients P (exact in int32)
  const intCoefficients: Code = [
    ...get(t[1]), ...set(P[0]),
    ...get(t[2]), ...get(t[0]), ...simd(V.sub32), ...set(P[1]),
    ...get(t[0]), ...get(t[1]), ...simd(V.sub32), ...i32(1), ...simd(V.shl32), ...get(t[2]), ...simd(V.add32), ...get(t[3]), ...simd(V.sub32), ...set(P[2]),
    ...get(t[1]), ...get(t[0]), ...simd(V.sub32), ...get(t[2]), ...simd(V.sub32), ...get(t[3]), ...simd(V.add32), ...set(P[3]),
  ];
  // cubic over integer taps: (R, G) into `lo`, (B, 0) into `hi`
  const intCubic = (d: number, lo: number, hi: number): Code => [
    ...intCoefficients,
    ...horner(cvtLow(get(P[0])), cvtLow(get(P[1])), cvtLow(get(P[2])), cvtLow(get(P[3])), d), ...set(lo),
    ...horner(cvtHigh(get(P[0])), cvtHigh(get(P[1])), cvtHigh(get(P[2])), cvtHigh(get(P[3])), d), ...set(hi),
  ];
  // cubic over float64x2 values v[0..3]: p2 = v3 - v1, p3 = 2(v1 - v2) + v3 - v4, p4 = v2 - v1 - v3 + v4
  // (geometric.ts's -v1 + v3 and -v1 + v2 are the same IEEE operations)
  const floatCubic = (v: number[], d: number): Code => {
    const [v1, v2, v3, v4] = v.map((k) => get(k));
    return horner(
      v2,
      [...v3, ...v1, ...fsub],
      [...v1, ...v2, ...fsub, ...v1, ...v2, ...fsub, ...fadd, ...v3, ...fadd, ...v4, ...fsub],
      [...v2, ...v1, ...fsub, ...v3, ...fsub, ...v4, ...fadd],
      d,
    );
  };
  // store (R, G) and (B, _) float64x2 locals as three bytes at o: truncate, clamp to 0..255
  const storePixel = (lo: number, hi: number): Code => [
    ...get(o),
    ...get(lo), ...simd(V.truncSatF64SZero), ...get(hi), ...simd(V.truncSatF64SZero),
    ...shuffle([0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23]), ...tee(ld),
    ...get(ld), ...simd(V.narrow32to16u), ...tee(ld), ...get(ld), ...simd(V.narrow16to8u), ...set(ld),
    ...get(ld), ...simd(V.store16Lane, 0, 0, 0),
    ...get(o), ...get(ld), ...simd(V.store8Lane, 0, 2, 2),
  ];
  // tap i of the row at `from`: the pixel at byte 3i widened to int32 lanes (R, G, B, next R);
  // the fourth lane is never stored. Widening loads, not byte shuffles: fewer instructions.
  const tap = (from: Code, i: number): Code => [...from, ...simd(V.load8x8u, ...mem(0, 3 * i)), ...simd(V.extLow16u)];
  const taps = (from: number): Code => [0, 1, 2, 3].flatMap((i) => [...tap(get(from), i), ...set(t[i])]);
  const pixelAddr = (row: Code, col: Code): Code => [...row, ...get(w), OP.mul, ...col, OP.add, ...i32(3), OP.mul, ...get(src), OP.add];
  const toDo: Code = [
    ...get(todo), ...get(cnt), ...i32(2), OP.shl, OP.add, ...get(o), ...get(dst), OP.sub, OP.store, ...mem(2),
    ...get(cnt), ...i32(1), OP.add, ...set(cnt),
  ];
  // 1 <= v <= limit - 3 (the four taps v-1 .. v+2 inside), as one unsigned compare
  const inner4 = (v: number, limit: number): Code => [...get(v), ...i32(1), OP.sub, ...get(limit), ...i32(3), OP.sub, OP.ltU];
  const inner2 = (v: number, limit: number): Code => [...get(v), ...get(limit), ...i32(1), OP.sub, OP.ltU];

  const copyPixel: Code = [
    ...pixelAddr(get(iy), get(ix)), ...set(base),
    ...get(o), ...get(base), OP.load8u, ...mem(0, 0), OP.store8, ...mem(0, 0),
    ...get(o), ...get(base), OP.load8u, ...mem(0, 1), OP.store8, ...mem(0, 1),
    ...get(o), ...get(base), OP.load8u, ...mem(0, 2), OP.store8, ...mem(0, 2),
  ];
  // dy = 0: one row, horizontal cubic over x-1 .. x+2
  const hCubic: Code = [
    ...pixelAddr(get(iy), [...get(ix), ...i32(1), OP.sub]), ...set(base),
    ...taps(base), ...intCubic(vx, f1, f2), ...storePixel(f1, f2),
  ];
  // dx = 0: one column, vertical cubic over rows y-1 .. y+2
  const vCubic: Code = [
    ...pixelAddr([...get(iy), ...i32(1), OP.sub], get(ix)), ...set(base),
    ...[0, 1, 2, 3].flatMap((k) => [
      ...tap([...get(base), ...(k ? [...get(stride), ...i32(k), OP.mul, OP.add] : [])], 0), ...set(t[k]),
    ]),
    ...intCubic(vy, f1, f2), ...storePixel(f1, f2),
  ];
  const fullCubic: Code = [
    ...pixelAddr([...get(iy), ...i32(1), OP.sub], [...get(ix), ...i32(1), OP.sub]), ...set(base),
    ...[0, 1, 2, 3].flatMap((k) => [
      ...get(base), ...(k ? [...get(stride), ...i32(k), OP.mul, OP.add] : []), ...set(row),
      ...taps(row), ...intCubic(vx, rg[k], bx[k]),
    ]),
    ...floatCubic(rg, vy), ...set(f1),
    ...floatCubic(bx, vy), ...set(f2),
    ...storePixel(f1, f2),
  ];
  // bilinear: v1 = a0 + (a1 - a0) dx, v2 = b0 + (b1 - b0) dx, v1 + (v2 - v1) dy
  // a0 + (a1 - a0) * d with a0 the pixel at rowAddr and a1 the next one (or `second`)
  const lerpRow = (rowAddr: Code, lo: number, hi: number, second: Code = tap(rowAddr, 1), d = vx): Code => [
    ...tap(rowAddr, 0), ...set(t[0]),
    ...second, ...get(t[0]), ...simd(V.sub32), ...set(t[1]),
    ...cvtLow(get(t[0])), ...cvtLow(get(t[1])), ...get(d), ...fmul, ...fadd, ...set(lo),
    ...cvtHigh(get(t[0])), ...cvtHigh(get(t[1])), ...get(d), ...fmul, ...fadd, ...set(hi),
  ];
  // dy = 0: v1 + (v2 - v1) * 0 is v1, one row; dx = 0: each row's lerp is its first pixel
  const hLerp: Code = [...pixelAddr(get(iy), get(ix)), ...set(base), ...lerpRow(get(base), f1, f2), ...storePixel(f1, f2)];
  const vLerp: Code = [
    ...pixelAddr(get(iy), get(ix)), ...set(base),
    ...lerpRow(get(base), f1, f2, tap(add(get(base), get(stride)), 0), vy), ...storePixel(f1, f2),
  ];
  const bilinear: Code = [
    ...pixelAddr(get(iy), get(ix)), ...set(base),
    ...lerpRow(get(base), rg[0], bx[0]),
    ...lerpRow(add(get(base), get(stride)), rg[1], bx[1]),
    ...get(rg[0]), ...get(rg[1]), ...get(rg[0]), ...fsub, ...get(vy), ...fmul, ...fadd, ...set(f1),
    ...get(bx[0]), ...get(bx[1]), ...get(bx[0]), ...fsub, ...get(vy), ...fmul, ...fadd, ...set(f2),
    ...storePixel(f1, f2),
  ];

  // Positions two lanes at a time, (x, y): the same float64 operations per lane as the
  // scalar a*xc + b*yc + c and d*xc + e*yc + f (xc = x + 0.5 steps by exactly 1).
  const lane = (v: number, k: number): Code => [...get(v), ...get(v), ...shuffle(k ? HIGH : LOW)];
  const pixel: Code = [
    ...get(mAD), ...get(xcv), ...fmul, ...get(be), ...fadd, ...get(mCF), ...fadd, ...set(pv),
    ...ifElse(
      [...get(pv), ...get(zero), ...simd(V.f64Lt), ...get(pv), ...get(wh), ...simd(V.f64Ge), ...simd(V.or), ...simd(V.anyTrue)],
      [...get(o), ...get(fill), OP.store16, ...mem(0, 0), ...get(o), ...get(fill), ...i32(16), OP.shrU, OP.store8, ...mem(0, 2)],
      [
        // xx = xin - 0.5, its floor and the offset dx = xx - floor (the same for y)
        ...get(pv), ...get(half), ...fsub, ...tee(pv), ...simd(V.f64Floor), ...tee(fl), ...simd(V.truncSatF64SZero), ...tee(ld),
        ...simd(V.i32Extract, 0), ...set(ix), ...get(ld), ...simd(V.i32Extract, 1), ...set(iy),
        ...get(pv), ...get(fl), ...fsub, ...tee(pv),
        ...get(zero), ...simd(V.f64Eq), ...simd(V.bitmask), ...set(zeros), // bit 0: dx = 0, bit 8: dy = 0
        ...lane(pv, 0), ...set(vx), ...lane(pv, 1), ...set(vy),
        ...ifElse(get(cubic),
          ifElse([...get(zeros), ...i32(0x100), OP.and],
            ifElse([...get(zeros), ...i32(1), OP.and],
              copyPixel,
              ifElse(inner4(ix, w), hCubic, toDo)),
            ifElse([...get(zeros), ...i32(1), OP.and],
              ifElse(inner4(iy, h), vCubic, toDo),
              ifElse([...inner4(ix, w), ...inner4(iy, h), OP.and], fullCubic, toDo))),
          ifElse([...get(zeros), ...i32(0x100), OP.and],
            ifElse(inner2(ix, w), hLerp, toDo),
            ifElse([...get(zeros), ...i32(1), OP.and],
              ifElse(inner2(iy, h), vLerp, toDo),
              ifElse([...inner2(ix, w), ...inner2(iy, h), OP.and], bilinear, toDo)))),
      ],
    ),
    ...get(xcv), ...get(one), ...fadd, ...set(xcv),
    ...get(o), ...i32(3), OP.add, ...set(o),
  ];
  // (p, q) as float64x2
  const pair = (p: Code, q: Code): Code => [...p, ...simd(V.f64Splat), ...q, ...simd(V.f64Replace, 1)];
  return {
    name: 'affine', params: [I32, I32, I32, I32, I32, I32, I32, F64, F64, F64, F64, F64, F64], results: [I32], locals: L.decl(),
    body: [
      ...get(w), ...i32(3), OP.mul, ...set(stride),
      ...pair(get(ma), get(md)), ...set(mAD), ...pair(get(mb), get(me)), ...set(mBE), ...pair(get(mc), get(mf)), ...set(mCF),
      ...pair([...get(w), OP.f64ConvertI32S], [...get(h), OP.f64ConvertI32S]), ...set(wh),
      ...f64(0.5), ...simd(V.f64Splat), ...set(half), ...f64(1), ...simd(V.f64Splat), ...set(one),
      ...get(dst), ...set(o),
      ...forLoop(y, get(h), [
        // (b * yc, e * yc)
        ...get(y), OP.f64ConvertI32S, ...f64(0.5), OP.f64Add, ...simd(V.f64Splat), ...get(mBE), ...fmul, ...set(be),
        ...get(half), ...set(xcv),
        ...forLoop(x, get(w), pixel),
      ]),
      ...get(cnt),
    ],
  };
}

// ---------------------------------------------------------------- TranslateY's row blends

/**
 * rows(src, dst, rowBytes, nrows, params, cubic): output row y blends whole input rows with
 * one offset per row, 16 bytes at a time; params + 32y holds the byte offsets of the input
 * rows r0..r3 (int32; r0 < 0: the row is skipped, it keeps the fill colour) and dy (float64
 * at +16). Bilinear: trunc(r0 + (r1 - r0) * dy); bicubic: clamp(trunc(cubic(r0..r3, dy))),
 * the edge rules being in the offsets the caller chose. Rows are done in order, so a row's
 * last 16-byte store may spill into the next one, which is written after it; the caller copies
 * out only the rows it asked for. Needs 32 bytes of padding after src and dst.
 */
function rowsKernel(): WasmFunction {
  const [src, dst, rowBytes, nrows, params, cubic] = [0, 1, 2, 3, 4, 5];
  const L = new Locals(6);
  const y = L.i32(), x = L.i32(), pr = L.i32(), drow = L.i32();
  const r = [L.i32(), L.i32(), L.i32(), L.i32()];
  const dyv = L.v128(), lo = L.v128(), hi = L.v128();
  const rowv = [L.v128(), L.v128(), L.v128(), L.v128()];
  const t = [L.v128(), L.v128(), L.v128(), L.v128()];
  const P = [L.v128(), L.v128(), L.v128(), L.v128()];
  const out = [L.v128(), L.v128(), L.v128(), L.v128()];
  const fadd = simd(V.f64Add), fsub = simd(V.f64Sub), fmul = simd(V.f64Mul);
  const cvtLow = (v: Code): Code => [...v, ...simd(V.f64ConvertLowS)];
  const cvtHigh = (v: Code): Code => [...v, ...v, ...shuffle(HIGH), ...simd(V.f64ConvertLowS)];
  // int32x4 group k (bytes 4k .. 4k+3) of the 16 loaded from row j
  const widen = (j: number, k: number): Code => [
    ...get(rowv[j]), ...simd(k < 2 ? V.extLow8u : V.extHigh8u), ...simd(k % 2 ? V.extHigh16u : V.extLow16u),
  ];
  // the two float64x2 halves of a result, truncated and put back together as int32x4
  const joinHalves: Code = [
    ...get(lo), ...simd(V.truncSatF64SZero), ...get(hi), ...simd(V.truncSatF64SZero),
    ...shuffle([0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23]),
  ];
  const horner = (p: (k: number) => Code): Code => [
    ...p(0), ...get(dyv), ...p(1), ...get(dyv), ...p(2), ...get(dyv), ...p(3), ...fmul, ...fadd, ...fmul, ...fadd, ...fmul, ...fadd,
  ];
  const lerpGroup = (k: number): Code => [
    ...widen(0, k), ...set(t[0]), ...widen(1, k), ...get(t[0]), ...simd(V.sub32), ...set(t[1]),
    ...cvtLow(get(t[0])), ...cvtLow(get(t[1])), ...get(dyv), ...fmul, ...fadd, ...set(lo),
    ...cvtHigh(get(t[0])), ...cvtHigh(get(t[1])), ...get(dyv), ...fmul, ...fadd, ...set(hi),
    ...joinHalves, ...set(out[k]),
  ];
  // the cubic's integer coefficients as in the affine kernel: p1 = v2, p2 = v3 - v1,
  // p3 = 2(v1 - v2) + v3 - v4, p4 = v2 - v1 - v3 + v4
  const cubicGroup = (k: number): Code => [
    ...[0, 1, 2, 3].flatMap((j) => [...widen(j, k), ...set(t[j])]),
    ...get(t[1]), ...set(P[0]),
    ...get(t[2]), ...get(t[0]), ...simd(V.sub32), ...set(P[1]),
    ...get(t[0]), ...get(t[1]), ...simd(V.sub32), ...i32(1), ...simd(V.shl32), ...get(t[2]), ...simd(V.add32), ...get(t[3]), ...simd(V.sub32), ...set(P[2]),
    ...get(t[1]), ...get(t[0]), ...simd(V.sub32), ...get(t[2]), ...simd(V.sub32), ...get(t[3]), ...simd(V.add32), ...set(P[3]),
    ...horner((j) => cvtLow(get(P[j]))), ...set(lo),
    ...horner((j) => cvtHigh(get(P[j]))), ...set(hi),
    ...joinHalves, ...set(out[k]),
  ];
  const store: Code = [
    ...add(get(drow), get(x)),
    ...get(out[0]), ...get(out[1]), ...simd(V.narrow32to16u),
    ...get(out[2]), ...get(out[3]), ...simd(V.narrow32to16u),
    ...simd(V.narrow16to8u), ...simd(V.store, ...mem(0)),
  ];
  const load = (j: number): Code => [...add(get(src), get(r[j]), get(x)), ...simd(V.load, ...mem(0)), ...set(rowv[j])];
  return {
    name: 'rows', params: [I32, I32, I32, I32, I32, I32], results: [], locals: L.decl(),
    body: forLoop(y, get(nrows), [
      ...add(get(params), [...get(y), ...i32(5), OP.shl]), ...set(pr),
      ...ifElse([...get(pr), OP.load, ...mem(2, 0), ...tee(r[0]), ...i32(0), OP.geS], [
        ...get(pr), OP.load, ...mem(2, 4), ...set(r[1]),
        ...get(pr), OP.load, ...mem(2, 8), ...set(r[2]),
        ...get(pr), OP.load, ...mem(2, 12), ...set(r[3]),
        ...get(pr), OP.f64Load, ...mem(3, 16), ...simd(V.f64Splat), ...set(dyv),
        ...add(get(dst), [...get(y), ...get(rowBytes), OP.mul]), ...set(drow),
        ...ifElse(get(cubic),
          forLoop(x, get(rowBytes), [...load(0), ...load(1), ...load(2), ...load(3), ...cubicGroup(0), ...cubicGroup(1), ...cubicGroup(2), ...cubicGroup(3), ...store], 16),
          forLoop(x, get(rowBytes), [...load(0), ...load(1), ...lerpGroup(0), ...lerpGroup(1), ...lerpGroup(2), ...lerpGroup(3), ...store], 16)),
      ]),
    ]),
  };
}

// ---------------------------------------------------------------- the JS side

export interface AugmentKernels {
  memory: WebAssembly.Memory;
  lut: (src: number, dst: number, n: number, tables: number) => void;
  hist: (src: number, n: number, hists: number) => void;
  lumaSum: (src: number, n: number) => number;
  color: (src: number, dst: number, n: number, grey: number, factor: number) => void;
  sharpen: (src: number, dst: number, w: number, h: number, factor: number) => void;
  affine: (src: number, w: number, h: number, dst: number, todo: number, fill: number, cubic: number,
    a: number, b: number, c: number, d: number, e: number, f: number) => number;
  rows: (src: number, dst: number, rowBytes: number, nrows: number, params: number, cubic: number) => void;
}

let kernels: AugmentKernels | null | undefined;
let enabled = true;

/** The kernels, or null where WebAssembly SIMD is unavailable, RSB_NO_SIMD=1, or switched off. */
export function augmentKernels(): AugmentKernels | null {
  if (!enabled) return null;
  if (kernels !== undefined) return kernels;
  const e = instantiate(moduleBytes([lutKernel(), histKernel(), lumaSumKernel(), colorKernel(), sharpenKernel(), affineKernel(), rowsKernel()]));
  kernels = e && ({ ...e, memory: e.mem } as unknown as AugmentKernels);
  return kernels;
}

/** Switches the kernels off (the plain JavaScript runs) or back on: for tests and A/B benchmarks. */
export function setAugmentKernels(on: boolean): void {
  enabled = on;
}

/** The image's bytes copied into the module's memory (with 32 bytes of padding). */
function copyIn(a: Arena, data: Uint8Array): number {
  const at = a.alloc(data.length + 32);
  a.bytes(at, data.length).set(data);
  return at;
}

/** out[p] = tables[p % 3][src[p]] through the kernel. */
export function lutWasm(k: AugmentKernels, src: Uint8Array, out: Uint8Array, t0: Uint8Array, t1: Uint8Array, t2: Uint8Array): void {
  const a = new Arena(k);
  const n = src.length - (src.length % 3);
  const tab = a.alloc(768);
  const at = copyIn(a, src);
  const tv = a.bytes(tab, 768);
  tv.set(t0, 0);
  tv.set(t1, 256);
  tv.set(t2, 512);
  k.lut(at, at, n, tab);
  out.set(a.bytes(at, src.length));
  // a length not a multiple of 3 (never an image) keeps the JavaScript rule for the tail
  for (let p = n; p < src.length; p++) out[p] = [t0, t1, t2][p % 3][src[p]];
}

/** The three channel histograms through the kernel. */
export function histWasm(k: AugmentKernels, data: Uint8Array): [Int32Array, Int32Array, Int32Array] {
  const a = new Arena(k);
  const hists = a.alloc(3 * 1024);
  const at = copyIn(a, data);
  a.ints(hists, 768).fill(0);
  k.hist(at, data.length - (data.length % 3), hists);
  const all = a.ints(hists, 768).slice();
  return [all.subarray(0, 256), all.subarray(256, 512), all.subarray(512, 768)];
}

/** Sum of Pillow's L over the image (pixels in chunks so that int32 cannot overflow). */
export function lumaSumWasm(k: AugmentKernels, data: Uint8Array): number {
  const a = new Arena(k);
  const at = copyIn(a, data);
  const CHUNK = 3 << 22; // 4M pixels: at most 255 * 2^22 < 2^31
  let sum = 0;
  for (let p = 0; p < data.length; p += CHUNK) sum += k.lumaSum(at + p, Math.min(CHUNK, data.length - p));
  return sum;
}

/** Color's fused blend with the greyscale image (|factor| <= 100, see sharpenWasm). */
export function colorWasm(k: AugmentKernels, src: Uint8Array, out: Uint8Array, factor: number): void {
  const a = new Arena(k);
  const at = copyIn(a, src);
  const grey = a.alloc(src.length + 32);
  k.color(at, at, src.length, grey, factor);
  out.set(a.bytes(at, src.length));
}

/** Sharpness through the kernel (w, h >= 3; |factor| small enough for 16-bit lanes, see enhance.ts). */
export function sharpenWasm(k: AugmentKernels, src: Uint8Array, w: number, h: number, factor: number, out: Uint8Array): void {
  const a = new Arena(k);
  const n = w * h * 3;
  const from = copyIn(a, src);
  const to = a.alloc(n + 32);
  k.sharpen(from, to, w, h, factor);
  out.set(a.bytes(to, n));
}

/**
 * The affine warp through the kernel into `out` (w, h >= 4). Returns the byte offsets
 * of the pixels left for the JavaScript samplers (taps across an edge).
 */
export function affineWasm(k: AugmentKernels, src: Uint8Array, w: number, h: number, m: readonly number[], cubic: boolean, fill: readonly [number, number, number], out: Uint8Array): Int32Array {
  const a = new Arena(k);
  const n = w * h * 3;
  const from = copyIn(a, src);
  const to = a.alloc(n + 32);
  const todo = a.alloc(w * h * 4);
  const count = k.affine(from, w, h, to, todo, fill[0] | (fill[1] << 8) | (fill[2] << 16), cubic ? 1 : 0, m[0], m[1], m[2], m[3], m[4], m[5]);
  out.set(a.bytes(to, n));
  return a.ints(todo, count).slice();
}

/**
 * Row blends through the kernel: output row y (of `rows.length` rows of `rowBytes`) from the
 * input rows at byte offsets rows[y] (four, or r0 < 0 to skip the row) with offset dys[y].
 * Copies the output rows first..last (inclusive) into `out` at the same offsets.
 */
export function rowsWasm(k: AugmentKernels, src: Uint8Array, rowBytes: number, rows: Int32Array, dys: Float64Array, cubic: boolean, first: number, last: number, out: Uint8Array): void {
  const a = new Arena(k);
  const n = rows.length / 4;
  const params = a.alloc(n * 32);
  const from = copyIn(a, src);
  const to = a.alloc(n * rowBytes + 32);
  const pi = a.ints(params, n * 8);
  const pf = new Float64Array(k.memory.buffer, params, n * 4);
  for (let y = 0; y < n; y++) {
    pi.set(rows.subarray(4 * y, 4 * y + 4), 8 * y);
    pf[4 * y + 2] = dys[y];
  }
  k.rows(from, to, rowBytes, n, params, cubic ? 1 : 0);
  if (last >= first) out.set(a.bytes(to + first * rowBytes, (last - first + 1) * rowBytes), first * rowBytes);
}
