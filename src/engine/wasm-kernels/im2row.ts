// im2row on tfjs-wasm's heap (./heap-module.ts): the input windows of a convolution as rows,
// col[m, (i, j, ci)] = xpad[b, oy*sh + i, ox*sw + j, ci] for output position m = (b, oy, ox), each
// row padded with zeros to `rowFloats` (a multiple of 4, so the outer-product kernel of
// ./grad-weight-simd.ts can take it as its x). For each position and filter row i the kw*Cin
// floats are one contiguous run of the padded input: one bulk memory.copy each.
//
// Used for the stem's filter gradient (Cin = 3: 7*7*3 = 147 taps, rows of 148), which the
// per-tap route cannot take (it needs Cin % 4 == 0).
import { I32, Locals, OP, fc, forLoop, get, i32, set, type Code, type WasmFunction } from '../../data/transforms/wasm-asm.ts';

const MEMORY_COPY = 10, MEMORY_FILL = 11;

/** (src, dst, n, ho, wo, hp, wp, cin, kh, kw, sh, sw, rowFloats) */
export function im2rowKernel(): WasmFunction {
  const [src, dst, n, ho, wo, hp, wp, cin, kh, kw, sh, sw, rowFloats] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12];
  const L = new Locals(13);
  const b = L.i32(), oy = L.i32(), ox = L.i32(), i = L.i32();
  const d = L.i32(), base = L.i32(), s = L.i32(), runBytes = L.i32(), pxStep = L.i32(), rowBytes = L.i32(), outRowBytes = L.i32(), tailBytes = L.i32();
  const bytes = (...f: Code[]): Code => [...f.flatMap((c, k) => (k === 0 ? c : [...c, OP.mul])), ...i32(2), OP.shl];
  const position: Code = [
    ...get(base), ...get(ox), ...get(pxStep), OP.mul, OP.add, ...set(s),
    ...forLoop(i, get(kh), [
      // memory.copy(d + i*runBytes, s + i*rowBytes, runBytes)
      ...get(d), ...get(i), ...get(runBytes), OP.mul, OP.add,
      ...get(s), ...get(i), ...get(rowBytes), OP.mul, OP.add,
      ...get(runBytes), ...fc(MEMORY_COPY, 0, 0),
    ]),
    // the row's padding: memory.fill(d + kh*runBytes, 0, tailBytes)
    ...get(d), ...get(kh), ...get(runBytes), OP.mul, OP.add, ...i32(0), ...get(tailBytes), ...fc(MEMORY_FILL, 0),
    ...get(d), ...get(outRowBytes), OP.add, ...set(d),
  ];
  const body: Code = [
    ...bytes(get(kw), get(cin)), ...set(runBytes),
    ...bytes(get(sw), get(cin)), ...set(pxStep),
    ...bytes(get(wp), get(cin)), ...set(rowBytes),
    ...bytes(get(rowFloats)), ...set(outRowBytes),
    ...get(outRowBytes), ...get(kh), ...get(runBytes), OP.mul, OP.sub, ...set(tailBytes),
    ...get(dst), ...set(d),
    ...forLoop(b, get(n), forLoop(oy, get(ho), [
      // base = src + (b*hp + oy*sh) * rowBytes
      ...get(b), ...get(hp), OP.mul, ...get(oy), ...get(sh), OP.mul, OP.add, ...get(rowBytes), OP.mul, ...get(src), OP.add, ...set(base),
      ...forLoop(ox, get(wo), position),
    ])),
  ];
  return { name: 'im2row', params: Array(13).fill(I32), results: [], locals: L.decl(), body };
}
