// The WebAssembly SIMD kernels on tfjs-wasm's heap (src/engine/wasm-kernels/heap-module.ts)
// against the JavaScript they replace. Both compute the same float operations in the same order,
// so the comparison is bit for bit (tolerance zero): a transpose moves values, and the BatchNorm
// passes widen to float64, add per channel in row order within the same chunks, and round once.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { gaussian, initBackends } from './backends.ts';
import { heapKernels, setHeapKernels, type HeapKernels } from '../../src/engine/wasm-kernels/heap-module.ts';
import { swapLastTwo, transposeInto, type WasmBackendLike } from '../../src/engine/wasm-kernels/compose.ts';
import { BACKWARD_WORK, FORWARD_WORK, ROW_CHUNK, batchNormTrainBackward, batchNormTrainForward, jsPasses } from '../../src/engine/batch-norm/math.ts';
import { heapPasses } from '../../src/engine/batch-norm/simd.ts';
import { batchNormTrain } from '../../src/engine/batch-norm/index.ts';

let backend: WasmBackendLike;
let k: HeapKernels;
const held: tf.Tensor[] = [];

before(async () => {
  await initBackends();
  await tf.setBackend('wasm');
  backend = tf.backend() as unknown as WasmBackendLike;
  const kernels = heapKernels(backend);
  assert.ok(kernels, 'the heap kernels instantiate on this Node (WebAssembly SIMD)');
  k = kernels;
});

after(() => {
  tf.dispose(held);
  setHeapKernels(true);
});

/** A tensor on the wasm heap holding `values` (disposed at the end of the file). */
function tensor(values: Float32Array): tf.Tensor {
  const t = tf.tensor1d(values);
  held.push(t);
  return t;
}

/**
 * Its heap view. Take views only after the last allocation: growing the heap replaces the
 * buffer, and a view taken before reads as empty (byteOffset 0).
 */
function view(t: tf.Tensor): Float32Array {
  return backend.typedArrayFromHeap({ dataId: t.dataId, shape: t.shape, dtype: 'float32' }) as Float32Array;
}

/** A heap view as `n` float64 (8-aligned) of a tensor made by tensor(new Float32Array(2n + 2)). */
function f64View(t: tf.Tensor, n: number): Float64Array {
  const f = view(t);
  return new Float64Array(f.buffer, (f.byteOffset + 7) & ~7, n);
}

function sameBits(got: Float32Array | Float64Array, want: Float32Array | Float64Array, what: string): void {
  assert.equal(got.length, want.length, `${what}: length`);
  const g = new Uint8Array(got.buffer, got.byteOffset, got.byteLength);
  const w = new Uint8Array(want.buffer, want.byteOffset, want.byteLength);
  for (let i = 0; i < g.length; i++) {
    if (g[i] !== w[i]) {
      const e = Math.floor(i / got.BYTES_PER_ELEMENT);
      assert.fail(`${what}: element ${e} differs: ${got[e]} vs ${want[e]}`);
    }
  }
}

for (const [rows, cols] of [[1, 1], [3, 5], [4, 4], [17, 33], [64, 256], [130, 7], [8, 20], [33, 16]]) {
  test(`transpose kernel = tiled JavaScript transpose, ${rows} x ${cols}`, () => {
    const st = tensor(gaussian([rows * cols], rows, cols));
    const dt = tensor(new Float32Array(rows * cols));
    const [src, dst] = [view(st), view(dt)];
    const want = new Float32Array(rows * cols);
    transposeInto(src, 0, rows, cols, want, 0);
    k.transpose(src.byteOffset, 4 * cols, dst.byteOffset, 4 * rows, rows, cols);
    sameBits(dst, want, 'transpose');
  });
}

test('transpose kernel: a strided window into part of a wider matrix, nothing else written', () => {
  // a 6 x 9 window with source rows 13 floats apart, into a 9 x 6 block of a 9 x 11 matrix at column 3
  const [rows, cols, srcStride, dstStride, dstCol] = [6, 9, 13, 11, 3];
  const st = tensor(gaussian([rows * srcStride], 5, 6));
  const dt = tensor(new Float32Array(cols * dstStride).fill(-7));
  const [src, dst] = [view(st), view(dt)];
  k.transpose(src.byteOffset, 4 * srcStride, dst.byteOffset + 4 * dstCol, 4 * dstStride, rows, cols);
  for (let j = 0; j < cols; j++) {
    for (let c = 0; c < dstStride; c++) {
      const want = c >= dstCol && c < dstCol + rows ? src[(c - dstCol) * srcStride + j] : -7;
      assert.equal(dst[j * dstStride + c], want, `dst[${j}, ${c}]`);
    }
  }
});

test('swapLastTwo: batched planes, the SIMD kernel and the JavaScript give the same tensor', async () => {
  const x = tf.tensor3d(gaussian([3, 37, 21], 1, 2), [3, 37, 21]);
  const info = { dataId: x.dataId, shape: x.shape, dtype: 'float32' as const };
  const runs: Float32Array[] = [];
  for (const on of [true, false]) {
    setHeapKernels(on);
    const out = swapLastTwo(backend, info);
    runs.push((backend.typedArrayFromHeap(out) as Float32Array).slice());
    backend.disposeData(out.dataId);
  }
  setHeapKernels(true);
  sameBits(runs[0], runs[1], 'swapLastTwo');
  x.dispose();
});

// rows around the chunk size, channel counts on and off the 8-wide blocks (c % 4 == 0 runs the
// kernels; 13 takes the JavaScript fallback and must still agree).
for (const [rows, c] of [[1, 4], [5, 8], [ROW_CHUNK, 12], [ROW_CHUNK + 1, 20], [97, 64], [70, 260], [40, 13]]) {
  test(`BatchNorm passes on the heap = JavaScript passes, bit for bit: ${rows} rows x ${c} channels`, () => {
    // offset channels (conv outputs are not centred), so the float64 sums carry real magnitudes
    const xv = gaussian([rows * c], rows, c).map((v, i) => 3 * v + (i % c) - c / 2);
    const dyv = gaussian([rows * c], rows, c + 1);
    const gamma = gaussian([c], 1, c), beta = gaussian([c], 2, c);
    const want = {
      y: new Float32Array(rows * c), mean: new Float32Array(c), variance: new Float32Array(c),
      dx: new Float32Array(rows * c), dgamma: new Float32Array(c), dbeta: new Float32Array(c),
    };
    batchNormTrainForward(xv, rows, c, gamma, beta, 1e-5, want.y, want.mean, want.variance, jsPasses);
    batchNormTrainBackward(dyv, xv, rows, c, gamma, want.mean, want.variance, 1e-5, want.dx, want.dgamma, want.dbeta, jsPasses);

    const ts = [xv, dyv, new Float32Array(rows * c), new Float32Array(rows * c)].map(tensor);
    const fwt = tensor(new Float32Array(2 * FORWARD_WORK * c + 2)), bwt = tensor(new Float32Array(2 * BACKWARD_WORK * c + 2));
    const [x, dy, y, dx] = ts.map(view);
    const fw = f64View(fwt, FORWARD_WORK * c), bw = f64View(bwt, BACKWARD_WORK * c);
    const got = { mean: new Float32Array(c), variance: new Float32Array(c), dgamma: new Float32Array(c), dbeta: new Float32Array(c) };
    const passes = heapPasses(k);
    batchNormTrainForward(x, rows, c, gamma, beta, 1e-5, y, got.mean, got.variance, passes, fw);
    batchNormTrainBackward(dy, x, rows, c, gamma, got.mean, got.variance, 1e-5, dx, got.dgamma, got.dbeta, passes, bw);
    sameBits(y, want.y, 'y');
    sameBits(got.mean, want.mean, 'mean');
    sameBits(got.variance, want.variance, 'variance');
    sameBits(dx, want.dx, 'dx');
    sameBits(got.dgamma, want.dgamma, 'dgamma');
    sameBits(got.dbeta, want.dbeta, 'dbeta');
  });
}

test('batchNormTrain on wasm: the same outputs and gradients with the heap kernels on and off', async () => {
  const shape: [number, number, number, number] = [2, 9, 7, 24];
  const runs = [];
  for (const on of [true, false]) {
    setHeapKernels(on);
    const x = tf.tensor4d(gaussian(shape, 3, 0).map((v, i) => 2 * v + (i % 24)), shape);
    const gamma = tf.tensor1d(gaussian([24], 3, 1)), beta = tf.tensor1d(gaussian([24], 3, 2));
    const up = tf.tensor4d(gaussian(shape, 3, 3), shape);
    const f = (xx: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(batchNormTrain(xx as tf.Tensor4D, g as tf.Tensor1D, b as tf.Tensor1D, 1e-5).y, up)) as tf.Scalar;
    const { value, grads } = tf.valueAndGrads(f)([x, gamma, beta]);
    runs.push({ value: await value.data(), dx: await grads[0].data(), dg: await grads[1].data(), db: await grads[2].data() });
    tf.dispose([x, gamma, beta, up, value, ...grads]);
  }
  setHeapKernels(true);
  for (const key of ['value', 'dx', 'dg', 'db'] as const) sameBits(runs[0][key] as Float32Array, runs[1][key] as Float32Array, key);
});

/** out[i, j] = sum over t of a(i, t) * b(t, j) in float32, t in order, multiply then add (what the kernels do). */
function sequentialProduct(rows: number, inner: number, cols: number, a: (i: number, t: number) => number, b: (t: number, j: number) => number): Float32Array {
  const out = new Float32Array(rows * cols);
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) {
      let acc = 0;
      for (let t = 0; t < inner; t++) acc = Math.fround(acc + Math.fround(a(i, t) * b(t, j)));
      out[i * cols + j] = acc;
    }
  }
  return out;
}

// m past one row chunk (64) and not a multiple of 4 (the one-row tail), k odd, n a few register blocks
for (const [m, kk, n] of [[1, 1, 8], [13, 5, 16], [70, 9, 24], [129, 33, 8]]) {
  test(`gemm kernel = a float32 loop summing in order, bit for bit: ${m} x ${kk} x ${n}`, () => {
    const at = tensor(gaussian([m * kk], m, kk)), bt = tensor(gaussian([kk * n], kk, n)), ct = tensor(new Float32Array(m * n).fill(NaN));
    const [a, b, c] = [view(at), view(bt), view(ct)];
    const want = sequentialProduct(m, kk, n, (i, t) => a[i * kk + t], (t, j) => b[t * n + j]);
    k.gemm(a.byteOffset, b.byteOffset, c.byteOffset, m, kk, n, 64);
    sameBits(c, want, 'gemm');
  });
}

// positions past one chunk and not a multiple of it; Cin in steps of the 4-row block, Cout of 8
for (const [m, cin, cout, chunk] of [[1, 4, 8, 64], [70, 8, 16, 64], [200, 12, 24, 64], [65, 4, 8, 16]]) {
  test(`gradWeight kernel = a float32 loop summing positions in order, bit for bit: ${m} x ${cin} x ${cout}, chunks of ${chunk}`, () => {
    const xt = tensor(gaussian([m * cin], m, cin)), dyt = tensor(gaussian([m * cout], m, cout));
    const start = gaussian([cin * cout], cin, cout); // the kernel adds to what is there
    const ot = tensor(start);
    const [x, dy, out] = [view(xt), view(dyt), view(ot)];
    // the kernel accumulates onto `start`: out = start + sum over positions, in order
    const want = new Float32Array(cin * cout);
    for (let ci = 0; ci < cin; ci++) {
      for (let co = 0; co < cout; co++) {
        let acc = start[ci * cout + co];
        for (let p = 0; p < m; p++) acc = Math.fround(acc + Math.fround(x[p * cin + ci] * dy[p * cout + co]));
        want[ci * cout + co] = acc;
      }
    }
    k.gradWeight(x.byteOffset, dy.byteOffset, m, cin, cout, out.byteOffset, chunk);
    sameBits(out, want, 'gradWeight');
  });
}

test('im2row kernel: each output position\'s window as one zero-padded row', () => {
  // padded input 2 x 7 x 6 x 3, a 3 x 2 filter at strides (2, 1): rows of 3*2*3 = 18 floats, padded to 20
  const [n, hp, wp, cin, kh, kw, sh, sw, rowFloats] = [2, 7, 6, 3, 3, 2, 2, 1, 20];
  const ho = Math.floor((hp - kh) / sh) + 1, wo = Math.floor((wp - kw) / sw) + 1;
  const xt = tensor(gaussian([n * hp * wp * cin], 8, 9)), ct = tensor(new Float32Array(n * ho * wo * rowFloats).fill(NaN));
  const [x, col] = [view(xt), view(ct)];
  k.im2row(x.byteOffset, col.byteOffset, n, ho, wo, hp, wp, cin, kh, kw, sh, sw, rowFloats);
  for (let b = 0, m = 0; b < n; b++) {
    for (let oy = 0; oy < ho; oy++) {
      for (let ox = 0; ox < wo; ox++, m++) {
        for (let c = 0; c < rowFloats; c++) {
          const [i, j, ci] = [Math.floor(c / (kw * cin)), Math.floor(c / cin) % kw, c % cin];
          const want = c < kh * kw * cin ? x[((b * hp + oy * sh + i) * wp + ox * sw + j) * cin + ci] : 0;
          assert.equal(col[m * rowFloats + c], want, `row ${m}, column ${c}`);
        }
      }
    }
  }
});
