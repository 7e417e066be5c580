// The model's layers against plain-loop references written from PyTorch's definitions:
// symmetric zero padding for convolutions, -inf padding for max-pool, BatchNorm's batch
// statistics (biased variance to normalise, unbiased for the running update).
// Tolerance 1e-5 absolute: float32 sums of at most a few hundred O(1) products differ from
// the float64 reference by ~1e-6 at most.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { tf } from '../../src/model/tf.ts';
import { conv2d } from '../../src/model/layers/conv2d.ts';
import { maxPool2d } from '../../src/model/layers/max-pool.ts';
import { batchNormTrain, batchNormEval, commitBatchStats, BN_EPS, type BatchNormVars } from '../../src/model/layers/batch-norm.ts';
import { useBackend, normals, maxAbsDiff } from './helpers.ts';

before(() => useBackend('cpu'));
// The padding rules are the backends' own kernels' business, so they are checked on both.
const backends = ['cpu', 'wasm'] as const;

/** NHWC x [n,h,w,c], HWIO w [k,k,c,o], PyTorch semantics: pad `pad` zeros on every side. */
function refConv(x: Float32Array, [n, h, wd, c]: number[], w: Float32Array, k: number, o: number, stride: number, pad: number) {
  const oh = Math.floor((h + 2 * pad - k) / stride) + 1, ow = Math.floor((wd + 2 * pad - k) / stride) + 1;
  const out = new Float64Array(n * oh * ow * o);
  for (let b = 0; b < n; b++) for (let y = 0; y < oh; y++) for (let xx = 0; xx < ow; xx++) for (let oc = 0; oc < o; oc++) {
    let s = 0;
    for (let ky = 0; ky < k; ky++) for (let kx = 0; kx < k; kx++) {
      const iy = y * stride - pad + ky, ix = xx * stride - pad + kx;
      if (iy < 0 || iy >= h || ix < 0 || ix >= wd) continue;
      for (let ic = 0; ic < c; ic++) s += x[((b * h + iy) * wd + ix) * c + ic] * w[((ky * k + kx) * c + ic) * o + oc];
    }
    out[((b * oh + y) * ow + xx) * o + oc] = s;
  }
  return { out, shape: [n, oh, ow, o] };
}

for (const backend of backends) test(`conv2d pads symmetrically like PyTorch (7x7/2 and 3x3/2 on even and odd inputs) [${backend}]`, async () => {
  await useBackend(backend);
  for (const [k, stride, pad, h] of [[7, 2, 3, 12], [3, 2, 1, 8], [3, 2, 1, 9], [3, 1, 1, 6], [1, 2, 0, 8]]) {
    const shape = [2, h, h + 2, 3];
    const x = normals(shape.reduce((a, b) => a * b), k * 100 + h);
    const w = normals(k * k * 3 * 4, k + h);
    const ref = refConv(x, shape, w, k, 4, stride, pad);
    const got = tf.tidy(() => conv2d(tf.tensor4d(x, shape as [number, number, number, number]), tf.tensor4d(w, [k, k, 3, 4]), stride, pad));
    assert.deepEqual(got.shape, ref.shape, `k${k} s${stride} h${h}: shape`);
    assert.ok(maxAbsDiff(got.dataSync(), ref.out) < 1e-5, `k${k} s${stride} h${h}: values`);
    got.dispose();
  }
  await useBackend('cpu');
});

test("TensorFlow's 'same' padding would differ on stride 2 (the trap the explicit pad avoids)", async () => {
  await useBackend('cpu');
  const shape: [number, number, number, number] = [1, 8, 8, 3];
  const x = normals(192, 1), w = normals(3 * 3 * 3 * 2, 2);
  const ours = tf.tidy(() => conv2d(tf.tensor4d(x, shape), tf.tensor4d(w, [3, 3, 3, 2]), 2, 1).dataSync());
  const same = tf.tidy(() => tf.conv2d(tf.tensor4d(x, shape), tf.tensor4d(w, [3, 3, 3, 2]), 2, 'same').dataSync());
  assert.equal(ours.length, same.length);
  assert.ok(maxAbsDiff(ours, same) > 1e-2, 'same-padding output should be shifted');
});

for (const backend of backends) test(`maxPool2d: padded cells never win, even when every input is negative [${backend}]`, async () => {
  await useBackend(backend);
  const shape: [number, number, number, number] = [1, 6, 6, 2];
  const x = normals(72, 3).map((v) => -Math.abs(v) - 1);
  const got = tf.tidy(() => maxPool2d(tf.tensor4d(x, shape), 3, 2, 1));
  assert.deepEqual(got.shape, [1, 3, 3, 2]);
  const g = got.dataSync();
  for (let y = 0; y < 3; y++) for (let xx = 0; xx < 3; xx++) for (let c = 0; c < 2; c++) {
    let m = -Infinity;
    for (let ky = 0; ky < 3; ky++) for (let kx = 0; kx < 3; kx++) {
      const iy = 2 * y - 1 + ky, ix = 2 * xx - 1 + kx;
      if (iy >= 0 && iy < 6 && ix >= 0 && ix < 6) m = Math.max(m, x[(iy * 6 + ix) * 2 + c]);
    }
    assert.equal(g[(y * 3 + xx) * 2 + c], Math.fround(m));
  }
  got.dispose();
  await useBackend('cpu');
});

function bnVars(c: number, seed: number): BatchNormVars {
  const g = normals(c, seed), b = normals(c, seed + 1), m = normals(c, seed + 2), v = normals(c, seed + 3).map((z) => 0.5 + z * z);
  return {
    name: 'test.bn',
    gamma: tf.variable(tf.tensor1d(g)), beta: tf.variable(tf.tensor1d(b)),
    runningMean: tf.variable(tf.tensor1d(m), false), runningVar: tf.variable(tf.tensor1d(v), false),
    numBatchesTracked: tf.variable(tf.scalar(0, 'int32'), false),
  };
}

test('BatchNorm training: batch stats (biased) normalise; running stats move by 0.1 towards the unbiased variance', async () => {
  await useBackend('cpu');
  const shape: [number, number, number, number] = [3, 4, 5, 6];
  const x = normals(360, 7).map((v, i) => v * 2 + (i % 6)); // per-channel offsets
  const bn = bnVars(6, 11);
  const g = bn.gamma.dataSync(), b = bn.beta.dataSync(), rm0 = bn.runningMean.dataSync().slice(), rv0 = bn.runningVar.dataSync().slice();
  const { y, stats } = batchNormTrain(tf.tensor4d(x, shape), bn);
  const n = 60;
  const mean = new Float64Array(6), varB = new Float64Array(6);
  for (let i = 0; i < 360; i++) mean[i % 6] += x[i] / n;
  for (let i = 0; i < 360; i++) varB[i % 6] += (x[i] - mean[i % 6]) ** 2 / n;
  const ref = Array.from(x, (v, i) => ((v - mean[i % 6]) / Math.sqrt(varB[i % 6] + BN_EPS)) * g[i % 6] + b[i % 6]);
  assert.ok(maxAbsDiff(y.dataSync(), ref) < 1e-5);
  // Nothing is written until the statistics are committed.
  assert.deepEqual(Array.from(bn.runningMean.dataSync()), Array.from(rm0));
  commitBatchStats([stats]);
  const wantRm = Array.from(rm0, (r, c) => 0.9 * r + 0.1 * mean[c]);
  const wantRv = Array.from(rv0, (r, c) => 0.9 * r + 0.1 * varB[c] * n / (n - 1));
  assert.ok(maxAbsDiff(bn.runningMean.dataSync(), wantRm) < 1e-5);
  assert.ok(maxAbsDiff(bn.runningVar.dataSync(), wantRv) < 1e-5);
  assert.equal(bn.numBatchesTracked.dataSync()[0], 1);
  assert.ok(stats.mean.isDisposed && stats.unbiasedVar.isDisposed, 'committed statistics are freed');
  // Eval mode uses the running statistics.
  const ev = batchNormEval(tf.tensor4d(x, shape), bn).dataSync();
  const rm = bn.runningMean.dataSync(), rv = bn.runningVar.dataSync();
  const refEv = Array.from(x, (v, i) => ((v - rm[i % 6]) / Math.sqrt(rv[i % 6] + BN_EPS)) * g[i % 6] + b[i % 6]);
  assert.ok(maxAbsDiff(ev, refEv) < 1e-5);
});

for (const backend of backends) test(`BatchNorm training gradient (written out) equals autodiff of the plain formula [${backend}]`, async () => {
  await useBackend(backend);
  // Reference: moments + arithmetic, differentiated by tfjs's generic gradients. The written-out
  // gradient must agree to float32 rounding (1e-5 relative to values of order 1).
  const shape: [number, number, number, number] = [2, 5, 3, 4];
  const x = tf.tensor4d(normals(120, 21).map((v, i) => v * 1.5 + (i % 4) - 1), shape);
  const w = tf.tensor4d(normals(120, 22), shape); // weights a non-trivial upstream gradient
  const g0 = tf.tensor1d(normals(4, 23)), b0 = tf.tensor1d(normals(4, 24));
  const bn = bnVars(4, 30);
  const ours = tf.grads((xx: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => {
    const probe: BatchNormVars = { ...bn, gamma: g as tf.Variable, beta: b as tf.Variable };
    const r = batchNormTrain(xx as tf.Tensor4D, probe);
    r.stats.mean.dispose();
    r.stats.unbiasedVar.dispose();
    return tf.sum(tf.mul(r.y, w));
  })([x, g0, b0]);
  const ref = tf.grads((xx: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => {
    const { mean, variance } = tf.moments(xx, [0, 1, 2]);
    const y = tf.add(tf.mul(tf.div(tf.sub(xx, mean), tf.sqrt(tf.add(variance, BN_EPS))), g), b);
    return tf.sum(tf.mul(y, w));
  })([x, g0, b0]);
  for (let i = 0; i < 3; i++) {
    const d = maxAbsDiff(ours[i].dataSync(), ref[i].dataSync());
    assert.ok(d < 1e-5, `${['dx', 'dgamma', 'dbeta'][i]}: ${d}`);
  }
  tf.dispose([x, w, g0, b0, ...ours, ...ref]);
  await useBackend('cpu');
});

test('BatchNorm training refuses a single value per channel (unbiased variance undefined), naming the layer', () => {
  const bn = bnVars(2, 1);
  assert.throws(() => batchNormTrain(tf.zeros([1, 1, 1, 2]) as tf.Tensor4D, bn), /test\.bn: .*more than one value/);
});
