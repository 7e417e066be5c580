// The BatchNorm passes of ./math.ts as WebAssembly SIMD kernels on tfjs-wasm's heap
// (src/engine/wasm-kernels/heap-module.ts instantiates them).
//
// Same arithmetic, same order, so the same bits as the JavaScript passes: each float32 pair of
// lanes is widened to float64 (f64x2.promote_low), the sums and the affine maps run in float64
// exactly as the JavaScript does with its doubles, and results are rounded to float32 once
// (f32x4.demote). Per channel, every sum walks the rows in order within chunks of ROW_CHUNK rows
// and adds each chunk's partial to the total, as columnSums does. test/engine/batch-norm-simd.test.ts
// checks the bits against the JavaScript passes.
//
// Channels go 8 (sums) or 4 (maps) at a time down a chunk of rows; the caller needs c % 4 == 0
// (every BatchNorm of a ResNet) and runs the JavaScript otherwise.
import { I32, Locals, OP, V, f32Addr, f64, forLoop, get, i32, mem, pointerLoop, set, shuffle, simd, tee, type Code, type WasmFunction } from '../../data/transforms/wasm-asm.ts';
import { ROW_CHUNK, jsPasses, type BatchNormPasses } from './math.ts';
import { onHeap, type HeapKernels } from '../wasm-kernels/heap-module.ts';

const load = (offset = 0): Code => simd(V.load, ...mem(2, offset));
const store = (offset = 0): Code => simd(V.store, ...mem(2, offset));
const promote = (): Code => simd(V.f64PromoteLowF32);
/** lanes 2, 3 of the vector (pushed twice) moved down to 0, 1, where promote widens them */
const high = (): Code => shuffle([8, 9, 10, 11, 12, 13, 14, 15, 8, 9, 10, 11, 12, 13, 14, 15]);
const f64Add = (): Code => simd(V.f64Add);
const f64Mul = (): Code => simd(V.f64Mul);
/** two float64x2 (on the stack) rounded to float32 and packed into one f32x4 */
const LOW_HALVES = [0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23];

/** min(counter + ROW_CHUNK, limit) into `into` */
function chunkEnd(counter: number, limit: number, into: number): Code {
  return [...get(counter), ...i32(ROW_CHUNK), OP.add, ...tee(into), ...get(limit), ...get(into), ...get(limit), OP.ltS, OP.select, ...set(into)];
}

/**
 * (x, x2, rows, c, outA, outB): outA[k] += sum of x[r, k]; outB[k] += sum of x^2 ('sq') or of
 * x*x2 ('cross'), float64, in chunks of ROW_CHUNK rows.
 */
export function bnSumsKernel(name: string, kind: 'sq' | 'cross'): WasmFunction {
  const [x, x2, rows, c, outA, outB] = [0, 1, 2, 3, 4, 5];
  const L = new Locals(6);
  const r0 = L.i32(), rEnd = L.i32(), k0 = L.i32(), p = L.i32(), q = L.i32(), pEnd = L.i32(), rowBytes = L.i32(), o = L.i32();
  const accA = [L.v128(), L.v128(), L.v128(), L.v128()];
  const accB = [L.v128(), L.v128(), L.v128(), L.v128()];
  const v = L.v128(), lo = L.v128(), hi = L.v128(), w = L.v128();

  function group(width: 8 | 4): Code {
    const vecs = width / 4;
    const inner: Code = [];
    for (let u = 0; u < vecs; u++) {
      inner.push(
        ...get(p), ...load(16 * u), ...tee(v), ...promote(), ...set(lo),
        ...get(v), ...get(v), ...high(), ...promote(), ...set(hi),
        ...get(accA[2 * u]), ...get(lo), ...f64Add(), ...set(accA[2 * u]),
        ...get(accA[2 * u + 1]), ...get(hi), ...f64Add(), ...set(accA[2 * u + 1]),
      );
      if (kind === 'sq') {
        inner.push(
          ...get(accB[2 * u]), ...get(lo), ...get(lo), ...f64Mul(), ...f64Add(), ...set(accB[2 * u]),
          ...get(accB[2 * u + 1]), ...get(hi), ...get(hi), ...f64Mul(), ...f64Add(), ...set(accB[2 * u + 1]),
        );
      } else {
        inner.push(
          ...get(q), ...load(16 * u), ...set(w),
          ...get(accB[2 * u]), ...get(lo), ...get(w), ...promote(), ...f64Mul(), ...f64Add(), ...set(accB[2 * u]),
          ...get(accB[2 * u + 1]), ...get(hi), ...get(w), ...get(w), ...high(), ...promote(), ...f64Mul(), ...f64Add(), ...set(accB[2 * u + 1]),
        );
      }
    }
    const zero: Code = [];
    for (let k = 0; k < width / 2; k++) zero.push(...f64(0), ...simd(V.f64Splat), ...set(accA[k]), ...f64(0), ...simd(V.f64Splat), ...set(accB[k]));
    const flush: Code = [...get(k0), ...i32(3), OP.shl, ...set(o)];
    for (let k = 0; k < width / 2; k++) {
      for (const [out, acc] of [[outA, accA[k]], [outB, accB[k]]]) {
        flush.push(...get(out), ...get(o), OP.add, ...get(out), ...get(o), OP.add, ...load(16 * k), ...get(acc), ...f64Add(), ...store(16 * k));
      }
    }
    return [
      OP.block, 0x40, OP.loop, 0x40,
      ...get(k0), ...i32(width), OP.add, ...get(c), OP.gtS, OP.brIf, 1,
      ...zero,
      ...f32Addr(x, r0, c, k0), ...set(p),
      ...f32Addr(x2, r0, c, k0), ...set(q),
      ...f32Addr(x, rEnd, c, k0), ...set(pEnd),
      ...pointerLoop(p, pEnd, inner, [[p, rowBytes], [q, rowBytes]]),
      ...flush,
      ...get(k0), ...i32(width), OP.add, ...set(k0),
      OP.br, 0, OP.end, OP.end,
    ];
  }

  const body: Code = [
    ...get(c), ...i32(2), OP.shl, ...set(rowBytes),
    ...forLoop(r0, get(rows), [...chunkEnd(r0, rows, rEnd), ...i32(0), ...set(k0), ...group(8), ...group(4)], ROW_CHUNK),
  ];
  return { name, params: [I32, I32, I32, I32, I32, I32], results: [], locals: L.decl(), body };
}

/**
 * A per-channel map over [rows, c] in float64, four channels at a time down a chunk of rows.
 * `coefs` float64 arrays (params after the fixed ones) are loaded as two f64x2 each per group;
 * `row` computes the two f64x2 results (low and high lanes) from the widened inputs.
 */
function mapKernel(
  name: string, inputs: number, coefs: number,
  row: (lo: number[], hi: number[], cLo: number[], cHi: number[]) => [Code, Code],
): WasmFunction {
  // params: inputs..., out, rows, c, coefficient arrays...
  const out = inputs, rows = inputs + 1, c = inputs + 2;
  const nParams = inputs + 3 + coefs;
  const L = new Locals(nParams);
  const r0 = L.i32(), rEnd = L.i32(), k0 = L.i32(), off = L.i32(), pEnd = L.i32(), rowBytes = L.i32();
  const cLo = Array.from({ length: coefs }, () => L.v128());
  const cHi = Array.from({ length: coefs }, () => L.v128());
  const v = Array.from({ length: inputs }, () => L.v128());
  const lo = Array.from({ length: inputs }, () => L.v128());
  const hi = Array.from({ length: inputs }, () => L.v128());
  const loadCoefs: Code = [];
  for (let k = 0; k < coefs; k++) {
    const arr = inputs + 3 + k;
    loadCoefs.push(
      ...get(arr), ...get(k0), ...i32(3), OP.shl, OP.add, ...load(0), ...set(cLo[k]),
      ...get(arr), ...get(k0), ...i32(3), OP.shl, OP.add, ...load(16), ...set(cHi[k]),
    );
  }
  const widen: Code = [];
  for (let n = 0; n < inputs; n++) {
    widen.push(
      ...get(n), ...get(off), OP.add, ...load(0), ...tee(v[n]), ...promote(), ...set(lo[n]),
      ...get(v[n]), ...get(v[n]), ...high(), ...promote(), ...set(hi[n]),
    );
  }
  const [yLo, yHi] = row(lo, hi, cLo, cHi);
  const group: Code = [
    ...loadCoefs,
    // off = (r0*c + k0)*4 (byte offset in every array), pEnd = (rEnd*c + k0)*4
    ...get(r0), ...get(c), OP.mul, ...get(k0), OP.add, ...i32(2), OP.shl, ...set(off),
    ...get(rEnd), ...get(c), OP.mul, ...get(k0), OP.add, ...i32(2), OP.shl, ...set(pEnd),
    ...pointerLoop(off, pEnd, [
      ...widen,
      ...get(out), ...get(off), OP.add,
      ...yLo, ...simd(V.f32DemoteF64Zero), ...yHi, ...simd(V.f32DemoteF64Zero), ...shuffle(LOW_HALVES),
      ...store(0),
    ], [[off, rowBytes]]),
  ];
  const body: Code = [
    ...get(c), ...i32(2), OP.shl, ...set(rowBytes),
    ...forLoop(r0, get(rows), [...chunkEnd(r0, rows, rEnd), ...forLoop(k0, get(c), group, 4)], ROW_CHUNK),
  ];
  return { name, params: Array(nParams).fill(I32), results: [], locals: L.decl(), body };
}

/** (x, y, rows, c, scale, shift): y = x*scale + shift, as ((x*s) + h) in float64 */
export function bnAffineKernel(): WasmFunction {
  return mapKernel('bnAffine', 1, 2, (lo, hi, cLo, cHi) => [
    [...get(lo[0]), ...get(cLo[0]), ...f64Mul(), ...get(cLo[1]), ...f64Add()],
    [...get(hi[0]), ...get(cHi[0]), ...f64Mul(), ...get(cHi[1]), ...f64Add()],
  ]);
}

/** (dy, x, dx, rows, c, a, b, d): dx = ((a*dy) + (b*x)) + d in float64 */
export function bnGradInputKernel(): WasmFunction {
  const half = (dy: number, xv: number, a: number, b: number, d: number): Code => [
    ...get(a), ...get(dy), ...f64Mul(), ...get(b), ...get(xv), ...f64Mul(), ...f64Add(), ...get(d), ...f64Add(),
  ];
  return mapKernel('bnGradInput', 2, 3, (lo, hi, cLo, cHi) => [
    half(lo[0], lo[1], cLo[0], cLo[1], cLo[2]),
    half(hi[0], hi[1], cHi[0], cHi[1], cHi[2]),
  ]);
}


/**
 * The passes for arrays on tfjs-wasm's heap: the kernels above where every array is on the heap
 * and c % 4 == 0, the JavaScript passes otherwise (same results either way).
 */
export function heapPasses(k: HeapKernels): BatchNormPasses {
  let passes = passesByKernels.get(k);
  if (passes === undefined) {
    passes = makeHeapPasses(k);
    passesByKernels.set(k, passes);
  }
  return passes;
}

/** One set of passes per kernels object (one per heap): BatchNorm runs ~100 times a step. */
const passesByKernels = new WeakMap<HeapKernels, BatchNormPasses>();

function makeHeapPasses(k: HeapKernels): BatchNormPasses {
  const all = (...arrays: ArrayBufferView[]) => arrays.every((a) => onHeap(k, a));
  return {
    columnSums(v, rows, c, out, sq) {
      if (c % 4 === 0 && all(v, out, sq)) k.bnSumsSq(v.byteOffset, 0, rows, c, out.byteOffset, sq.byteOffset);
      else jsPasses.columnSums(v, rows, c, out, sq);
    },
    gradSums(dy, x, rows, c, sdy, sdyx) {
      if (c % 4 === 0 && all(dy, x, sdy, sdyx)) k.bnSumsCross(dy.byteOffset, x.byteOffset, rows, c, sdy.byteOffset, sdyx.byteOffset);
      else jsPasses.gradSums(dy, x, rows, c, sdy, sdyx);
    },
    affine(x, rows, c, scale, shift, y) {
      if (c % 4 === 0 && all(x, scale, shift, y)) k.bnAffine(x.byteOffset, y.byteOffset, rows, c, scale.byteOffset, shift.byteOffset);
      else jsPasses.affine(x, rows, c, scale, shift, y);
    },
    gradInput(dy, x, rows, c, a, bx, d, dx) {
      if (c % 4 === 0 && all(dy, x, a, bx, d, dx)) k.bnGradInput(dy.byteOffset, x.byteOffset, dx.byteOffset, rows, c, a.byteOffset, bx.byteOffset, d.byteOffset);
      else jsPasses.gradInput(dy, x, rows, c, a, bx, d, dx);
    },
  };
}
