// MaxPoolGrad as a WebAssembly SIMD kernel on tfjs-wasm's heap (./heap-module.ts), four channels
// at a time: the same routing as ./max-pool-grad.ts (each dy goes to the first cell of its window,
// in row-major order, equal to the forward output), computed without branches: every window cell
// is compared with the output, `found` masks the cells after the first match, and dx gets
// dy AND match added (adding +0 elsewhere, which leaves dx unchanged: it never holds -0). Output
// pixels go in the JavaScript's order, so overlapping windows add in the same order: same bits.
// Needs C % 4 == 0; dx must be zeroed first.
import { I32, Locals, OP, V, forLoop, get, i32, loopOn, mem, set, simd, tee, type Code, type WasmFunction } from '../../data/transforms/wasm-asm.ts';

const F32_EQ = 65, V128_AND = 78, V128_ANDNOT = 79, V128_OR = 80;

/** (x, y, dy, dx, n, h, w, c, ho, wo, sh, sw, kh, kw, top, left) */
export function maxPoolGradKernel(): WasmFunction {
  const [x, y, dy, dx, n, h, w, c, ho, wo, sh, sw, kh, kw, top, left] = Array.from({ length: 16 }, (_, k) => k);
  const L = new Locals(16);
  const b = L.i32(), oy = L.i32(), ox = L.i32(), ch = L.i32(), iy = L.i32(), ix = L.i32();
  const y0 = L.i32(), y1 = L.i32(), x0 = L.i32(), x1 = L.i32(), o = L.i32(), p = L.i32(), pxBytes = L.i32();
  const best = L.v128(), gv = L.v128(), found = L.v128(), eq = L.v128();
  const load = (): Code => simd(V.load, ...mem(2));
  /** max(0, start) and min(limit, start + size) of a window along one axis, start = o*s - pad */
  const bounds = (out: number, s: number, pad: number, size: number, limit: number, lo: number, hi: number): Code => [
    ...get(out), ...get(s), OP.mul, ...get(pad), OP.sub, ...tee(lo), ...get(size), OP.add, ...set(hi),
    ...get(lo), ...i32(0), ...get(lo), ...i32(0), OP.gtS, OP.select, ...set(lo),
    ...get(hi), ...get(limit), ...get(hi), ...get(limit), OP.ltS, OP.select, ...set(hi),
  ];
  const cell: Code = [
    // p = ((b*h + iy)*w + ix)*c*4 + ch*4, a byte offset into x and dx
    ...get(b), ...get(h), OP.mul, ...get(iy), OP.add, ...get(w), OP.mul, ...get(ix), OP.add, ...get(pxBytes), OP.mul,
    ...get(ch), ...i32(2), OP.shl, OP.add, ...set(p),
    // eq = (x[p] == best) and not found
    ...get(x), ...get(p), OP.add, ...load(), ...get(best), ...simd(F32_EQ), ...get(found), ...simd(V128_ANDNOT), ...set(eq),
    // dx[p] += dy and eq
    ...get(dx), ...get(p), OP.add,
    ...get(dx), ...get(p), OP.add, ...load(), ...get(gv), ...get(eq), ...simd(V128_AND), ...simd(V.f32Add),
    ...simd(V.store, ...mem(2)),
    ...get(found), ...get(eq), ...simd(V128_OR), ...set(found),
  ];
  const group: Code = [
    // o = byte offset of this output pixel's channel group in y and dy
    ...get(y), ...get(o), OP.add, ...get(ch), ...i32(2), OP.shl, OP.add, ...load(), ...set(best),
    ...get(dy), ...get(o), OP.add, ...get(ch), ...i32(2), OP.shl, OP.add, ...load(), ...set(gv),
    ...i32(0), ...simd(V.splat32), ...set(found),
    ...get(y0), ...set(iy),
    ...loopOn(iy, get(y1), [...get(x0), ...set(ix), ...loopOn(ix, get(x1), cell)]),
  ];
  const body: Code = [
    ...get(c), ...i32(2), OP.shl, ...set(pxBytes),
    ...forLoop(b, get(n), forLoop(oy, get(ho), [
      ...bounds(oy, sh, top, kh, h, y0, y1),
      ...forLoop(ox, get(wo), [
        ...bounds(ox, sw, left, kw, w, x0, x1),
        ...get(b), ...get(ho), OP.mul, ...get(oy), OP.add, ...get(wo), OP.mul, ...get(ox), OP.add, ...get(pxBytes), OP.mul, ...set(o),
        ...forLoop(ch, get(c), group, 4),
      ]),
    ])),
  ];
  return { name: 'maxPoolGrad', params: Array(16).fill(I32), results: [], locals: L.decl(), body };
}
