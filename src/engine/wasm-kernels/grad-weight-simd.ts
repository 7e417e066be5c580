// The weight gradient of a convolution tap, out[Cin, Cout] += x^T @ dy, as a WebAssembly SIMD
// kernel reading x [M, Cin] and dy [M, Cout] where they lie (./heap-module.ts).
//
// Why not the native matMul: its contraction runs over M = N*Ho*Wo output positions (8192 for
// resnet50 at 128 px, batch 8), the dimension both operands are laid out along. XNNPACK's
// matMul wants the left operand's rows contiguous along the contraction, so one side must be
// transposed first, and it packs the right operand, a fresh tensor every call, before it
// multiplies: two extra passes over an operand M rows long, then a product streaming M-long
// panels. Measured (bench kernel-profile --inner): the filter gradients' matMuls took 926 ms
// per micro-batch where the forward convolutions, the same multiply-adds, took 718.
//
// Here the product is a sum of outer products, one per position m: x[m, ci..ci+3] (four
// splatted floats) times dy[m, co..co+7] (two vectors) into a 4 x 8 block of accumulators in
// registers, both rows read in their own layout, so nothing is transposed or packed. Positions
// go in chunks of KC so a chunk of both operands stays in cache while every block of the output
// passes over it; each block's partial sums are loaded from and stored to `out` once per chunk.
// Every output element is a float32 sum over m in order (multiply, then add), as a plain loop.
// Needs Cin % 4 == 0 and Cout % 8 == 0 (the caller checks; ResNet's stem, Cin = 3, does not).
import { I32, Locals, OP, V, f32Addr, forLoop, get, i32, mem, pointerLoop, set, simd, tee, type Code, type WasmFunction } from '../../data/transforms/wasm-asm.ts';

/** v128.load32_splat: one float into all four lanes */
const LOAD32_SPLAT = 9;

/** (x, dy, m, cin, cout, out, kc): out[ci, co] += sum over positions of x[m, ci] * dy[m, co] */
export function gradWeightKernel(): WasmFunction {
  const [x, dy, m, cin, cout, out, kc] = [0, 1, 2, 3, 4, 5, 6];
  const L = new Locals(7);
  const m0 = L.i32(), mEnd = L.i32(), ci = L.i32(), co = L.i32(), px = L.i32(), pd = L.i32(), pEnd = L.i32();
  const xs = L.i32(), ds = L.i32(), pc = L.i32();
  const acc = Array.from({ length: 8 }, () => L.v128()); // acc[2r + h]: row ci + r, columns co + 4h..
  const b0 = L.v128(), b1 = L.v128(), a = L.v128();
  const load = (offset = 0): Code => simd(V.load, ...mem(2, offset));
  const store = (offset = 0): Code => simd(V.store, ...mem(2, offset));
  const f32Add = (): Code => simd(V.f32Add);
  const f32Mul = (): Code => simd(V.f32Mul);

  // the block's four output rows are ds bytes apart (out is [Cin, Cout] like dy's rows)
  const rowAddr = (r: number): Code => (r === 0 ? get(pc) : [...get(pc), ...get(ds), ...i32(r), OP.mul, OP.add]);
  const loadAcc: Code = [];
  const storeAcc: Code = [];
  for (let r = 0; r < 4; r++) {
    for (let h = 0; h < 2; h++) {
      loadAcc.push(...rowAddr(r), ...load(16 * h), ...set(acc[2 * r + h]));
      storeAcc.push(...rowAddr(r), ...get(acc[2 * r + h]), ...store(16 * h));
    }
  }
  const step: Code = [...get(pd), ...load(0), ...set(b0), ...get(pd), ...load(16), ...set(b1)];
  for (let r = 0; r < 4; r++) {
    step.push(
      ...get(px), ...simd(LOAD32_SPLAT, ...mem(2, 4 * r)), ...set(a),
      ...get(acc[2 * r]), ...get(a), ...get(b0), ...f32Mul(), ...f32Add(), ...set(acc[2 * r]),
      ...get(acc[2 * r + 1]), ...get(a), ...get(b1), ...f32Mul(), ...f32Add(), ...set(acc[2 * r + 1]),
    );
  }
  const block: Code = [
    ...f32Addr(out, ci, cout, co), ...set(pc),
    ...loadAcc,
    ...f32Addr(x, m0, cin, ci), ...set(px),
    ...f32Addr(dy, m0, cout, co), ...set(pd),
    ...f32Addr(x, mEnd, cin, ci), ...set(pEnd),
    ...pointerLoop(px, pEnd, step, [[px, xs], [pd, ds]]),
    ...storeAcc,
  ];
  const body: Code = [
    ...get(cin), ...i32(2), OP.shl, ...set(xs),
    ...get(cout), ...i32(2), OP.shl, ...set(ds),
    ...forLoop(m0, get(m), [
      // mEnd = min(m0 + kc, m)
      ...get(m0), ...get(kc), OP.add, ...tee(mEnd), ...get(m), ...get(mEnd), ...get(m), OP.ltS, OP.select, ...set(mEnd),
      ...forLoop(ci, get(cin), forLoop(co, get(cout), block, 8), 4),
    ], get(kc)),
  ];
  return { name: 'gradWeight', params: [I32, I32, I32, I32, I32, I32, I32], results: [], locals: L.decl(), body };
}
