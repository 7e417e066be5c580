// The fused training BatchNorm against the same maths composed from tfjs ops (tf.moments +
// tf.batchNorm, differentiated by tfjs's own gradients), on cpu and wasm.
// Tolerance: 1e-4 of each tensor's largest value. The reference sums R <= 360 float32 values
// per channel (worst-case relative error R*2^-24 ~ 2e-5 of the summed magnitudes; ours sums in
// float64); normalising by the standard deviation keeps that relative, and the backward pass
// multiplies such sums once more: a few 1e-5 at most. A wrong formula is off by O(1).
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { gaussian, initBackends, relMaxDiff } from './backends.ts';
import { batchNormTrain } from '../../src/engine/batch-norm/index.ts';

before(async () => {
  await initBackends();
});

const EPS = 1e-5;

function reference(x: tf.Tensor4D, gamma: tf.Tensor1D, beta: tf.Tensor1D) {
  const m = tf.moments(x, [0, 1, 2]);
  const mean = m.mean as tf.Tensor1D, variance = m.variance as tf.Tensor1D;
  return { y: tf.batchNorm4d(x, mean, variance, beta, gamma, EPS), mean, variance };
}

async function run(backend: 'cpu' | 'wasm', fused: boolean, shape: [number, number, number, number], seed: number) {
  await tf.setBackend(backend);
  const c = shape[3];
  // Channels with an offset and scale, as conv outputs have, so centring matters.
  const xv = gaussian(shape, seed, 0).map((v, i) => 3 * v + (i % c) - c / 2);
  const x = tf.tensor4d(xv, shape);
  const gamma = tf.tensor1d(gaussian([c], seed, 1));
  const beta = tf.tensor1d(gaussian([c], seed, 2));
  const upstream = tf.tensor4d(gaussian(shape, seed, 3), shape);
  const f = (xx: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => {
    const r = fused ? batchNormTrain(xx as tf.Tensor4D, g as tf.Tensor1D, b as tf.Tensor1D, EPS) : reference(xx as tf.Tensor4D, g as tf.Tensor1D, b as tf.Tensor1D);
    return tf.sum(tf.mul(r.y, upstream)) as tf.Scalar;
  };
  const grads = tf.grads(f)([x, gamma, beta]);
  const fwd = fused ? batchNormTrain(x, gamma, beta, EPS) : reference(x, gamma, beta);
  const out = {
    y: await fwd.y.data(), mean: await fwd.mean.data(), variance: await fwd.variance.data(),
    dx: await grads[0].data(), dgamma: await grads[1].data(), dbeta: await grads[2].data(),
  };
  tf.dispose([x, gamma, beta, upstream, fwd.y, fwd.mean, fwd.variance, ...grads]);
  return out;
}

for (const backend of ['cpu', 'wasm'] as const) {
  for (const [k, shape] of ([[2, 5, 4, 8], [3, 4, 4, 13], [4, 2, 2, 64], [4, 9, 10, 13]] as [number, number, number, number][]).entries()) {
    test(`batchNormTrain (${backend}) = tfjs ops: [${shape}] output, statistics and gradients`, async () => {
      const want = await run('cpu', false, shape, 20 + k);
      const got = await run(backend, true, shape, 20 + k);
      for (const key of Object.keys(want) as (keyof typeof want)[]) {
        const d = relMaxDiff(got[key], want[key]);
        assert.ok(d <= 1e-4, `${key}: relative max difference ${d}`);
      }
    });
  }
}

test('batchNormTrain leaks no tensors and keeps gradients flowing to every input', async () => {
  await tf.setBackend('wasm');
  const before = tf.memory().numTensors;
  const x = tf.tensor4d(gaussian([2, 3, 3, 4], 1, 0), [2, 3, 3, 4]);
  const g = tf.ones([4]) as tf.Tensor1D, b = tf.zeros([4]) as tf.Tensor1D;
  const grads = tf.grads((xx: tf.Tensor, gg: tf.Tensor, bb: tf.Tensor) => tf.sum(tf.square(batchNormTrain(xx, gg as tf.Tensor1D, bb as tf.Tensor1D, EPS).y)) as tf.Scalar)([x, g, b]);
  assert.equal(grads.length, 3);
  tf.dispose([x, g, b, ...grads]);
  assert.equal(tf.memory().numTensors, before);
});

// The forward pass takes the variance as E[x^2] - mean^2 from one pass of float64 sums. Its
// error grows with (mean/std)^2; check it on channels whose mean is 300 standard deviations
// away from 0 (far beyond conv outputs) against a two-pass float64 reference: float32's
// 6e-8 would allow ~1e-7 relative, the float64 one-pass sums are off by ~1e-16 * R * 9e4 ~ 1e-8.
test('batchNormTrain (wasm): one-pass variance is exact to float32 even for |mean| = 300 std', async () => {
  await tf.setBackend('wasm');
  const shape: [number, number, number, number] = [8, 16, 16, 12];
  const c = shape[3];
  const xv = gaussian(shape, 31, 0).map((v, i) => v + 300 * (1 + (i % c) / c));
  const rows = xv.length / c;
  const x = tf.tensor4d(xv, shape);
  const gamma = tf.ones([c]) as tf.Tensor1D, beta = tf.zeros([c]) as tf.Tensor1D;
  const r = batchNormTrain(x, gamma, beta, EPS);
  const variance = await r.variance.data();
  for (let k = 0; k < c; k++) {
    let m = 0;
    for (let i = k; i < xv.length; i += c) m += xv[i];
    m /= rows;
    let v = 0;
    for (let i = k; i < xv.length; i += c) v += (xv[i] - m) ** 2;
    v /= rows;
    assert.ok(Math.abs(variance[k] - v) <= 2e-7 * v, `channel ${k}: variance ${variance[k]}, float64 two-pass ${v}`);
  }
  tf.dispose([x, gamma, beta, r.y, r.mean, r.variance]);
});
