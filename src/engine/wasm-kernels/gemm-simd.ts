// C[m, n] = A[m, k] @ B[k, n], all row-major, as a WebAssembly SIMD kernel on tfjs-wasm's heap
// (./heap-module.ts): 4 x 8 blocks of C in registers, A's four rows splatted one column at a
// time, B's row k read as two vectors. Rows of A come in chunks of MC so a chunk stays in cache
// while every column block of B passes over it. Needs n % 8 == 0; any m and k.
import { I32, Locals, OP, V, f32Addr, forLoop, get, i32, loopOn, mem, pointerLoop, set, simd, tee, type Code, type WasmFunction } from '../../data/transforms/wasm-asm.ts';

const LOAD32_SPLAT = 9;

/** (a, b, c, m, k, n, mc) */
export function gemmKernel(): WasmFunction {
  const [a, b, c, m, k, n, mc] = [0, 1, 2, 3, 4, 5, 6];
  const L = new Locals(7);
  const m0c = L.i32(), mEndC = L.i32(), n0 = L.i32(), r0 = L.i32(), rEnd4 = L.i32(), kk = L.i32();
  const pa = [L.i32(), L.i32(), L.i32(), L.i32()];
  const pb = L.i32(), pbEnd = L.i32(), bs = L.i32(), pc = L.i32();
  const acc = Array.from({ length: 8 }, () => L.v128());
  const b0 = L.v128(), b1 = L.v128(), av = L.v128();
  const load = (o = 0): Code => simd(V.load, ...mem(2, o));
  const store = (o = 0): Code => simd(V.store, ...mem(2, o));
  const zero = (): Code => simd(V.f32Splat);

  function block(rows: 4 | 1): Code {
    const init: Code = [];
    for (let j = 0; j < 2 * rows; j++) init.push(OP.f32Const, 0, 0, 0, 0, ...zero(), ...set(acc[j]));
    for (let r = 0; r < rows; r++) init.push(...get(r0), ...i32(r), OP.add, ...get(k), OP.mul, ...i32(2), OP.shl, ...get(a), OP.add, ...set(pa[r]));
    const step: Code = [...get(pb), ...load(0), ...set(b0), ...get(pb), ...load(16), ...set(b1)];
    for (let r = 0; r < rows; r++) {
      step.push(
        ...get(pa[r]), ...simd(LOAD32_SPLAT, ...mem(2)), ...set(av),
        ...get(acc[2 * r]), ...get(av), ...get(b0), ...simd(V.f32Mul), ...simd(V.f32Add), ...set(acc[2 * r]),
        ...get(acc[2 * r + 1]), ...get(av), ...get(b1), ...simd(V.f32Mul), ...simd(V.f32Add), ...set(acc[2 * r + 1]),
        ...get(pa[r]), ...i32(4), OP.add, ...set(pa[r]),
      );
    }
    const out: Code = [];
    for (let r = 0; r < rows; r++) {
      out.push(...get(r0), ...i32(r), OP.add, ...set(kk), ...f32Addr(c, kk, n, n0), ...tee(pc), ...get(acc[2 * r]), ...store(0), ...get(pc), ...get(acc[2 * r + 1]), ...store(16));
    }
    return [
      ...init,
      ...get(n0), ...i32(2), OP.shl, ...get(b), OP.add, ...set(pb),
      ...get(k), ...get(bs), OP.mul, ...get(pb), OP.add, ...set(pbEnd),
      ...pointerLoop(pb, pbEnd, step, [[pb, bs]]),
      ...out,
    ];
  }

  const body: Code = [
    ...get(n), ...i32(2), OP.shl, ...set(bs),
    ...forLoop(m0c, get(m), [
      ...get(m0c), ...get(mc), OP.add, ...tee(mEndC), ...get(m), ...get(mEndC), ...get(m), OP.ltS, OP.select, ...set(mEndC),
      // rEnd4: the chunk's last full group of four rows
      ...get(mEndC), ...get(m0c), OP.sub, ...i32(-4), OP.and, ...get(m0c), OP.add, ...set(rEnd4),
      ...forLoop(n0, get(n), [
        ...get(m0c), ...set(r0),
        ...loopOn(r0, get(rEnd4), block(4), 4),
        ...loopOn(r0, get(mEndC), block(1), 1),
      ], 8),
    ], get(mc)),
  ];
  return { name: 'gemm', params: [I32, I32, I32, I32, I32, I32, I32], results: [], locals: L.decl(), body };
}
