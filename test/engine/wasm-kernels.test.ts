// Our wasm training kernels against the cpu backend's, on random inputs over the shapes,
// strides and paddings a ResNet uses (and some awkward ones). Tolerance: the worst-case float32
// bound of the sums involved (see withinSumBound), computed per element.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { abs, gaussian, initBackends, on, withinSumBound } from './backends.ts';
import { wasmTrainingKernelsRegistered } from '../../src/engine/wasm-kernels/index.ts';
import { inputGradPath } from '../../src/engine/wasm-kernels/conv2d-backprop-input.ts';
import { unregisterCpuTrainingKernels } from '../../src/engine/cpu-kernels/index.ts';
import { setHeapKernels } from '../../src/engine/wasm-kernels/heap-module.ts';
import { CONV_CASES as CASES, filterGrad, inputGrad, outShape, type ConvCase } from './conv-cases.ts';

before(async () => {
  await initBackends();
  // The reference is tfjs-backend-cpu's own kernel, not ours (ours is tested in cpu-kernels.test.ts).
  unregisterCpuTrainingKernels();
});

test('wasm kernels are registered by selectBackend', () => {
  assert.ok(wasmTrainingKernelsRegistered());
  assert.ok(tf.getKernel('Conv2DBackpropFilter', 'wasm'));
});

for (const [k, c] of CASES.entries()) {
  // With the SIMD heap kernels (the default) and without (the JavaScript gathers and transposes
  // that run where WebAssembly SIMD is missing).
  for (const simd of [true, false]) {
    test(`Conv2DBackpropFilter wasm = cpu${simd ? '' : ' (JavaScript paths)'}: ${c.name}`, async () => {
      const dyShape = outShape(c);
      const x = gaussian(c.x, 1, 2 * k);
      const dy = gaussian(dyShape, 1, 2 * k + 1);
      const want = await on('cpu', filterGrad(c, x, dy, dyShape));
      setHeapKernels(simd);
      const got = await on('wasm', filterGrad(c, x, dy, dyShape)).finally(() => setHeapKernels(true));
      const bound = await on('cpu', filterGrad(c, abs(x), abs(dy), dyShape));
      assert.deepEqual(got.shape, c.f);
      const terms = dyShape[0] * dyShape[1] * dyShape[2];
      assert.equal(withinSumBound(got.values, want.values, bound.values, terms), null);
    });
  }

  for (const mode of ['auto', 'gemm', 'phases'] as const) {
    test(`Conv2DBackpropInput wasm = cpu (${mode} path): ${c.name}`, async () => {
      const dyShape = outShape(c);
      const dy = gaussian(dyShape, 2, 2 * k);
      const f = gaussian(c.f, 2, 2 * k + 1);
      const want = await on('cpu', inputGrad(c, dy, dyShape, f));
      inputGradPath.mode = mode;
      try {
        const got = await on('wasm', inputGrad(c, dy, dyShape, f));
        const bound = await on('cpu', inputGrad(c, abs(dy), dyShape, abs(f)));
        assert.deepEqual(got.shape, c.x);
        const terms = c.f[0] * c.f[1] * c.f[3];
        assert.equal(withinSumBound(got.values, want.values, bound.values, terms), null);
      } finally {
        inputGradPath.mode = 'auto';
      }
    });
  }
}

// Forward Conv2D: our 1x1 path (./conv2d-pointwise.ts) on the plain 1x1 cases, tfjs-wasm's own on
// the rest (the wrapper must hand those over untouched); with the heap kernels on and off.
const FORWARD_CASES: ConvCase[] = [
  ...CASES,
  { name: '1x1 s1, 64 -> 256 over 130 positions (the GEMM row tail)', x: [2, 5, 13, 64], f: [1, 1, 64, 256], strides: 1, pad: 'valid' },
  { name: "1x1 s1 'same', 16 -> 8", x: [1, 6, 7, 16], f: [1, 1, 16, 8], strides: 1, pad: 'same' },
  { name: '1x1 s1, 512 -> 256 (weights past the GEMM limit: native)', x: [1, 3, 3, 512], f: [1, 1, 512, 256], strides: 1, pad: 'valid' },
];
for (const [k, c] of FORWARD_CASES.entries()) {
  for (const simd of [true, false]) {
    test(`Conv2D wasm = cpu${simd ? '' : ' (JavaScript paths)'}: ${c.name}`, async () => {
      const x = gaussian(c.x, 3, 2 * k);
      const f = gaussian(c.f, 3, 2 * k + 1);
      const fwd = (xv: Float32Array, fv: Float32Array) => () => tf.conv2d(tf.tensor4d(xv, c.x), tf.tensor4d(fv, c.f), c.strides, c.pad as 'valid');
      const want = await on('cpu', fwd(x, f));
      setHeapKernels(simd);
      const got = await on('wasm', fwd(x, f)).finally(() => setHeapKernels(true));
      const bound = await on('cpu', fwd(abs(x), abs(f)));
      assert.deepEqual(got.shape, want.shape);
      assert.equal(withinSumBound(got.values, want.values, bound.values, c.f[0] * c.f[1] * c.f[2]), null);
    });
  }
}

const MATMUL_CASES: { name: string; a: number[]; b: number[]; ta: boolean; tb: boolean }[] = [
  { name: 'plain', a: [5, 7], b: [7, 3], ta: false, tb: false },
  { name: 'transposeA (linear layer dW = x^T dy)', a: [7, 5], b: [7, 3], ta: true, tb: false },
  { name: 'transposeB (linear layer dx = dy W^T)', a: [5, 7], b: [3, 7], ta: false, tb: true },
  { name: 'both transposed', a: [7, 5], b: [3, 7], ta: true, tb: true },
  { name: 'batched, transposeA', a: [3, 6, 4], b: [3, 6, 5], ta: true, tb: false },
  { name: 'broadcast batch, transposeB', a: [2, 4, 6], b: [1, 5, 6], ta: false, tb: true },
  // Shapes where transposing the small operand and the result is cheaper (viaTransposedProduct).
  { name: 'transposeB, small a, big b (linear layer dx with a wide W)', a: [2, 7], b: [40, 7], ta: false, tb: true },
  { name: 'transposeA, big a, small b', a: [40, 3], b: [40, 2], ta: true, tb: false },
  { name: 'broadcast batch, transposeB, small a', a: [2, 2, 6], b: [1, 30, 6], ta: false, tb: true },
  { name: 'broadcast batch (a), transposeB, small a', a: [1, 2, 6], b: [3, 30, 6], ta: false, tb: true },
];

for (const [k, c] of MATMUL_CASES.entries()) {
  test(`BatchMatMul wasm = cpu: ${c.name}`, async () => {
    const a = gaussian(c.a, 3, 2 * k);
    const b = gaussian(c.b, 3, 2 * k + 1);
    const run = (av: Float32Array, bv: Float32Array) => () => tf.matMul(tf.tensor(av, c.a), tf.tensor(bv, c.b), c.ta, c.tb);
    const want = await on('cpu', run(a, b));
    const got = await on('wasm', run(a, b));
    const bound = await on('cpu', run(abs(a), abs(b)));
    assert.deepEqual(got.shape, want.shape);
    const inner = c.ta ? c.a[c.a.length - 2] : c.a[c.a.length - 1];
    assert.equal(withinSumBound(got.values, want.values, bound.values, inner), null);
  });
}

test('_FusedMatMul wasm = cpu: transposed operands with bias and relu', async () => {
  const aShape = [6, 4], bShape = [5, 6];
  const a = gaussian(aShape, 4, 0), b = gaussian(bShape, 4, 1), bias = gaussian([5], 4, 2);
  const run = (av: Float32Array, bv: Float32Array, cv: Float32Array, activation: 'relu' | 'linear') => () =>
    tf.fused.matMul({ a: tf.tensor(av, aShape), b: tf.tensor(bv, bShape), transposeA: true, transposeB: true, bias: tf.tensor(cv), activation });
  const want = await on('cpu', run(a, b, bias, 'relu'));
  const got = await on('wasm', run(a, b, bias, 'relu'));
  // Bound on the pre-activation sum (relu only clips, it cannot enlarge a difference); the bias is one more term.
  const bound = await on('cpu', run(abs(a), abs(b), abs(bias), 'linear'));
  assert.deepEqual(got.shape, [4, 5]);
  assert.equal(withinSumBound(got.values, want.values, bound.values, 6 + 1), null);
});

const REDUCE_CASES: { name: string; shape: number[]; axis: number | number[]; keepDims: boolean }[] = [
  { name: 'NHWC per-channel (BatchNorm statistics)', shape: [3, 5, 4, 7], axis: [0, 1, 2], keepDims: false },
  { name: 'NHWC per-channel, keepDims, axes unordered', shape: [2, 3, 3, 5], axis: [2, 0, 1], keepDims: true },
  { name: 'matrix columns', shape: [9, 6], axis: 0, keepDims: false },
  { name: 'NHWC, 8-column blocks plus a remainder', shape: [2, 6, 5, 21], axis: [0, 1, 2], keepDims: false },
  { name: 'inner axis (goes to the native kernel)', shape: [4, 6], axis: 1, keepDims: false },
  { name: 'everything (goes to the native kernel)', shape: [2, 3, 4], axis: [0, 1, 2], keepDims: false },
];

for (const [k, c] of REDUCE_CASES.entries()) {
  for (const op of ['sum', 'mean'] as const) {
    test(`${op === 'sum' ? 'Sum' : 'Mean'} wasm = cpu: ${c.name}`, async () => {
      const x = gaussian(c.shape, 7, k);
      const run = (v: Float32Array) => () => tf[op](tf.tensor(v, c.shape), c.axis, c.keepDims);
      const want = await on('cpu', run(x));
      const got = await on('wasm', run(x));
      const bound = await on('cpu', run(abs(x)));
      assert.deepEqual(got.shape, want.shape);
      const axes = Array.isArray(c.axis) ? c.axis : [c.axis];
      const terms = axes.reduce((n, a) => n * c.shape[a], 1);
      assert.equal(withinSumBound(got.values, want.values, bound.values, terms), null);
    });
  }
}

test('swapLastTwo (our tiled transpose) = cpu transpose, bit for bit, on tile-straddling shapes', async () => {
  const { swapLastTwo } = await import('../../src/engine/wasm-kernels/compose.ts');
  // Sizes below, at and across the 16-wide tiles, and a batch of planes (the per-tap filters).
  for (const shape of [[1, 1], [1, 17], [17, 1], [16, 16], [33, 47], [3, 19, 5], [2, 2, 40, 18]]) {
    const v = gaussian(shape, 7, shape.length * 100 + shape[0]);
    const perm = [...shape.keys()];
    [perm[shape.length - 2], perm[shape.length - 1]] = [perm[shape.length - 1], perm[shape.length - 2]];
    const want = await on('cpu', () => tf.transpose(tf.tensor(v, shape), perm));
    await tf.setBackend('wasm');
    const x = tf.tensor(v, shape);
    const backend = tf.backend() as unknown as Parameters<typeof swapLastTwo>[0];
    const info = swapLastTwo(backend, { dataId: x.dataId, shape: x.shape, dtype: 'float32' });
    const got = tf.engine().makeTensorFromTensorInfo(info);
    assert.deepEqual(got.shape, want.shape, `shape [${shape}]`);
    assert.deepEqual(Array.from(got.dataSync()), Array.from(want.values), `values [${shape}]`);
    tf.dispose([x, got]);
  }
});

// Inputs with many exact ties (small integers, a third of them clipped to 0 as after ReLU), so
// the test checks WHICH cell of a tied window gets the gradient (first in row-major order, as
// tfjs-cpu), not only the untied case. Overlapping windows (3/2) add up to 4 terms per cell.
const POOL_CASES: { name: string; x: number[]; k: number; s: number; pad: 'valid' | 'same' | number }[] = [
  { name: 'resnet stem 3x3/2 pad 1', x: [2, 12, 12, 5], k: 3, s: 2, pad: 1 },
  { name: '3x3/2 pad 1, odd size', x: [1, 9, 7, 3], k: 3, s: 2, pad: 1 },
  { name: '2x2/2 valid', x: [2, 8, 8, 4], k: 2, s: 2, pad: 'valid' },
  { name: '3x3/1 same', x: [1, 6, 5, 2], k: 3, s: 1, pad: 'same' },
  // channels a multiple of 4: the SIMD kernel (./max-pool-grad-simd.ts)
  { name: 'resnet stem 3x3/2 pad 1, 8 channels', x: [2, 11, 12, 8], k: 3, s: 2, pad: 1 },
  { name: '3x3/1 same, 12 channels', x: [1, 6, 5, 12], k: 3, s: 1, pad: 'same' },
];
for (const [k, c] of POOL_CASES.entries()) for (const simd of [true, false]) {
  test(`MaxPoolGrad wasm = cpu (ties routed alike)${simd ? '' : ' (JavaScript path)'}: ${c.name}`, async () => {
    const xv = gaussian(c.x, 11, k).map((v) => Math.max(-1, Math.round(v * 1.5)));
    const outShapeOf = () => tf.maxPool(tf.tensor4d(xv, c.x as [number, number, number, number]), c.k, c.s, c.pad).shape;
    const dyShape = (await on('cpu', () => tf.zeros(outShapeOf()))).shape;
    const dy = gaussian(dyShape, 12, k);
    const grad = (dyv: Float32Array) => () => tf.grad((x: tf.Tensor) => tf.maxPool(x as tf.Tensor4D, c.k, c.s, c.pad))(tf.tensor4d(xv, c.x as [number, number, number, number]), tf.tensor(dyv, dyShape));
    const want = await on('cpu', grad(dy));
    setHeapKernels(simd);
    const got = await on('wasm', grad(dy)).finally(() => setHeapKernels(true));
    const bound = await on('cpu', grad(abs(dy)));
    assert.equal(withinSumBound(got.values, want.values, bound.values, Math.ceil(c.k / c.s) ** 2), null);
    assert.ok(want.values.some((v) => v !== 0), 'gradient routed somewhere');
  });
}

test('Identity on wasm shares the buffer; each holder survives the other; the buffer is freed with the last', async () => {
  await tf.setBackend('wasm');
  const backend = tf.backend() as unknown as { refCount(d: object): number; dataIdMap: { has(d: object): boolean } };
  const before = tf.memory().numTensors;
  const x = tf.tensor([1, 2, 3, 4], [2, 2]);
  const y = tf.clone(x);
  assert.equal(y.dataId, x.dataId, 'no copy');
  assert.equal(backend.refCount(x.dataId), 2);
  x.dispose();
  assert.deepEqual(Array.from(y.dataSync()), [1, 2, 3, 4], 'clone still readable after the original is disposed');
  const id = y.dataId;
  y.dispose();
  assert.equal(backend.dataIdMap.has(id), false, 'buffer freed with the last holder');
  assert.equal(tf.memory().numTensors, before);
  // A saved-for-gradient clone inside a tape: the gradient is unchanged and nothing leaks.
  const z = tf.tensor([1, -2, 3]);
  const g = tf.grad((v: tf.Tensor) => tf.sum(tf.mul(tf.relu(v), v)))(z);
  assert.deepEqual(Array.from(g.dataSync()), [2, 0, 6]);
  tf.dispose([z, g]);
  assert.equal(tf.memory().numTensors, before);
});
