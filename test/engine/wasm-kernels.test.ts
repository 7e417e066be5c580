// Our wasm training kernels against the cpu backend's, on random inputs over the shapes,
// strides and paddings a ResNet uses (and some awkward ones). Tolerance: the worst-case float32
// bound of the sums involved (see withinSumBound), computed per element.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { abs, gaussian, initBackends, on, withinSumBound } from './backends.ts';
import { wasmTrainingKernelsRegistered } from '../../src/engine/wasm-kernels/index.ts';

before(async () => {
  await initBackends();
});

type Pad = 'valid' | 'same' | number | [[number, number], [number, number], [number, number], [number, number]];
interface ConvCase {
  name: string;
  x: [number, number, number, number];
  f: [number, number, number, number];
  strides: number | [number, number];
  pad: Pad;
}
const sym = (p: number): Pad => [[0, 0], [p, p], [p, p], [0, 0]];

const CASES: ConvCase[] = [
  { name: '1x1 s1, Cin < Cout (bottleneck conv3)', x: [2, 6, 6, 8], f: [1, 1, 8, 16], strides: 1, pad: 'valid' },
  { name: '1x1 s1, Cin > Cout (bottleneck conv1)', x: [2, 6, 6, 16], f: [1, 1, 16, 8], strides: 1, pad: 'valid' },
  { name: '1x1 s2 downsample, even input', x: [2, 8, 8, 8], f: [1, 1, 8, 12], strides: 2, pad: 'valid' },
  { name: '1x1 s2 downsample, odd input', x: [1, 7, 9, 6], f: [1, 1, 6, 5], strides: 2, pad: 'valid' },
  { name: '3x3 s1 pad 1 (explicit)', x: [2, 7, 7, 8], f: [3, 3, 8, 8], strides: 1, pad: sym(1) },
  { name: '3x3 s2 pad 1 (explicit), even input', x: [2, 8, 8, 8], f: [3, 3, 8, 16], strides: 2, pad: sym(1) },
  { name: '3x3 s2 pad 1 (explicit), odd input', x: [1, 9, 7, 4], f: [3, 3, 4, 6], strides: 2, pad: sym(1) },
  { name: '7x7 s2 pad 3 (stem)', x: [1, 16, 16, 3], f: [7, 7, 3, 8], strides: 2, pad: sym(3) },
  { name: '3x3 valid s1 (pre-padded input, as the model does)', x: [2, 8, 8, 6], f: [3, 3, 6, 7], strides: 1, pad: 'valid' },
  { name: '3x3 valid s2 (pre-padded input, as the model does)', x: [2, 10, 10, 6], f: [3, 3, 6, 7], strides: 2, pad: 'valid' },
  { name: "3x3 'same' s2 (asymmetric TF padding)", x: [1, 8, 8, 4], f: [3, 3, 4, 4], strides: 2, pad: 'same' },
  { name: 'asymmetric explicit padding, 2x3 filter, strides [2,1]', x: [2, 7, 6, 3], f: [2, 3, 3, 5], strides: [2, 1], pad: [[0, 0], [0, 1], [2, 0], [0, 0]] },
  { name: 'padding larger than the filter', x: [1, 5, 5, 2], f: [2, 2, 2, 3], strides: 1, pad: sym(3) },
];

function outShape(c: ConvCase): number[] {
  // The forward op's output shape, from tfjs itself (the same rule both backends use).
  return tf.tidy(() => tf.conv2d(tf.zeros(c.x) as tf.Tensor4D, tf.zeros(c.f) as tf.Tensor4D, c.strides, c.pad as 'valid').shape);
}

function filterGrad(c: ConvCase, x: Float32Array, dy: Float32Array, dyShape: number[]): () => tf.Tensor {
  return () =>
    tf.engine().runKernel(
      'Conv2DBackpropFilter',
      { x: tf.tensor(x, c.x), dy: tf.tensor(dy, dyShape) },
      { strides: c.strides, pad: c.pad, dataFormat: 'NHWC', dimRoundingMode: undefined, filterShape: c.f } as never,
    ) as tf.Tensor;
}

function inputGrad(c: ConvCase, dy: Float32Array, dyShape: number[], f: Float32Array): () => tf.Tensor {
  return () =>
    tf.engine().runKernel(
      'Conv2DBackpropInput',
      { dy: tf.tensor(dy, dyShape), filter: tf.tensor(f, c.f) },
      { strides: c.strides, pad: c.pad, dataFormat: 'NHWC', dimRoundingMode: undefined, inputShape: c.x } as never,
    ) as tf.Tensor;
}

test('wasm kernels are registered by selectBackend', () => {
  assert.ok(wasmTrainingKernelsRegistered());
  assert.ok(tf.getKernel('Conv2DBackpropFilter', 'wasm'));
});

for (const [k, c] of CASES.entries()) {
  test(`Conv2DBackpropFilter wasm = cpu: ${c.name}`, async () => {
    const dyShape = outShape(c);
    const x = gaussian(c.x, 1, 2 * k);
    const dy = gaussian(dyShape, 1, 2 * k + 1);
    const want = await on('cpu', filterGrad(c, x, dy, dyShape));
    const got = await on('wasm', filterGrad(c, x, dy, dyShape));
    const bound = await on('cpu', filterGrad(c, abs(x), abs(dy), dyShape));
    assert.deepEqual(got.shape, c.f);
    const terms = dyShape[0] * dyShape[1] * dyShape[2];
    assert.equal(withinSumBound(got.values, want.values, bound.values, terms), null);
  });

  test(`Conv2DBackpropInput wasm = cpu: ${c.name}`, async () => {
    const dyShape = outShape(c);
    const dy = gaussian(dyShape, 2, 2 * k);
    const f = gaussian(c.f, 2, 2 * k + 1);
    const want = await on('cpu', inputGrad(c, dy, dyShape, f));
    const got = await on('wasm', inputGrad(c, dy, dyShape, f));
    const bound = await on('cpu', inputGrad(c, abs(dy), dyShape, abs(f)));
    assert.deepEqual(got.shape, c.x);
    const terms = c.f[0] * c.f[1] * c.f[3];
    assert.equal(withinSumBound(got.values, want.values, bound.values, terms), null);
  });
}

const MATMUL_CASES: { name: string; a: number[]; b: number[]; ta: boolean; tb: boolean }[] = [
  { name: 'plain', a: [5, 7], b: [7, 3], ta: false, tb: false },
  { name: 'transposeA (linear layer dW = x^T dy)', a: [7, 5], b: [7, 3], ta: true, tb: false },
  { name: 'transposeB (linear layer dx = dy W^T)', a: [5, 7], b: [3, 7], ta: false, tb: true },
  { name: 'both transposed', a: [7, 5], b: [3, 7], ta: true, tb: true },
  { name: 'batched, transposeA', a: [3, 6, 4], b: [3, 6, 5], ta: true, tb: false },
  { name: 'broadcast batch, transposeB', a: [2, 4, 6], b: [1, 5, 6], ta: false, tb: true },
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
