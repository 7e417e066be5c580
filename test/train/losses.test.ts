// BCE and cross-entropy against float64 references computed here (the bce_loss goldens
// are run by the conformance test). Tolerances: float32 evaluation of log/exp sums over a
// few dozen terms stays within ~1e-6 relative; 1e-5 relative + 1e-7 absolute is the bar.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { Rng } from '../../src/util/rng.ts';
import { binaryCrossEntropy, bceWithLogits, smoothedOneHot } from '../../src/train/bce.ts';
import { crossEntropy, softTargetCrossEntropy } from '../../src/train/cross-entropy.ts';

before(async () => {
  await tf.setBackend('cpu');
});

const TOL = { rtol: 1e-5, atol: 1e-7 };
function assertClose(got: ArrayLike<number>, want: ArrayLike<number>, what: string, tol = TOL) {
  assert.equal(got.length, want.length, `${what}: length`);
  for (let i = 0; i < want.length; i++) {
    const ok = Math.abs(got[i] - want[i]) <= tol.atol + tol.rtol * Math.abs(want[i]);
    assert.ok(ok, `${what}[${i}]: got ${got[i]}, want ${want[i]}`);
  }
}

function randomLogits(rng: Rng, b: number, c: number, scale = 3): Float32Array {
  return Float32Array.from({ length: b * c }, () => rng.gauss(0, scale));
}

/** float64 BCE reference: mean over B*C of softplus(z) - z*y; gradient (sigmoid(z) - y)/(B*C). */
function bceRef(z: ArrayLike<number>, y: ArrayLike<number>) {
  let s = 0;
  const g: number[] = [];
  for (let i = 0; i < z.length; i++) {
    const softplus = z[i] > 0 ? z[i] + Math.log1p(Math.exp(-z[i])) : Math.log1p(Math.exp(z[i]));
    s += softplus - z[i] * y[i];
    g.push((1 / (1 + Math.exp(-z[i])) - y[i]) / z.length);
  }
  return { loss: s / z.length, grad: g };
}

test('BCE: index targets, smoothing and threshold match a float64 reference, loss and gradient', async () => {
  const rng = new Rng(1, 1);
  const [b, c] = [8, 12];
  const z = randomLogits(rng, b, c);
  const labels = Int32Array.from({ length: b }, () => rng.randint(0, c - 1));
  for (const [smoothing, thr] of [[0, null], [0.1, null], [0.1, 0.2], [0.3, 0.02]] as const) {
    const y = Array.from(smoothedOneHot(labels, c, smoothing), (v) => (thr === null ? v : v > thr ? 1 : 0));
    const ref = bceRef(z, y);
    const logits = tf.tensor2d(z, [b, c]);
    const { value, grad } = tf.valueAndGrad((x: tf.Tensor) => binaryCrossEntropy(x as tf.Tensor2D, labels, { smoothing, targetThreshold: thr }))(logits);
    assertClose([(await value.data())[0]], [ref.loss], `loss s=${smoothing} t=${thr}`);
    assertClose(await grad.data(), ref.grad, `grad s=${smoothing} t=${thr}`);
    tf.dispose([logits, value, grad]);
  }
});

test('BCE: threshold turns mixed targets into 0/1 strictly above it; soft targets are not smoothed', async () => {
  // Row 0: lam 0.8 own / 0.2 partner -> partner exactly at 0.2 is NOT > 0.2 -> 0.
  const soft = tf.tensor2d([[0.8, 0.2, 0, 0], [0.15, 0, 0.85, 0]]);
  const z = tf.zeros([2, 4]) as tf.Tensor2D;
  const loss = binaryCrossEntropy(z, soft, { smoothing: 0.1, targetThreshold: 0.2 });
  // z = 0: every term is log 2, independent of y; the gradient shows the targets.
  assertClose([(await loss.data())[0]], [Math.LN2], 'loss at z=0');
  const g = await tf.grad((x: tf.Tensor) => binaryCrossEntropy(x as tf.Tensor2D, soft, { smoothing: 0.1, targetThreshold: 0.2 }))(z).data();
  const y = [1, 0, 0, 0, 0, 0, 1, 0];
  assertClose(g, y.map((t) => (0.5 - t) / 8), 'grad at z=0 is (0.5 - y)/n, also exactly at z = 0');
  tf.dispose([soft, z, loss]);
});

test('BCE: extreme logits stay finite and exact', async () => {
  const z = tf.tensor2d([[100, -100, 80, -80]]);
  const y = tf.tensor2d([[0, 1, 1, 0]]);
  const loss = (await bceWithLogits(z, y).data())[0];
  assert.ok(Number.isFinite(loss));
  assertClose([loss], [(100 + 100 + 0 + 0) / 4], 'large-logit loss', { rtol: 1e-6, atol: 1e-5 });
  tf.dispose([z, y]);
  assert.throws(() => bceWithLogits(tf.zeros([2, 3]) as tf.Tensor2D, tf.zeros([2, 4]) as tf.Tensor2D), /logits \[2,3\] vs targets \[2,4\]/);
  assert.throws(() => smoothedOneHot([0, 5], 5, 0), /label 5 at position 1 outside 0\.\.4/);
});

/** float64 cross-entropy with dense targets: mean_b sum_c -y log softmax(z); grad (p*sum(y) - y)/B. */
function ceRef(z: ArrayLike<number>, y: ArrayLike<number>, b: number, c: number) {
  let total = 0;
  const g: number[] = [];
  for (let i = 0; i < b; i++) {
    let mx = -Infinity;
    for (let k = 0; k < c; k++) mx = Math.max(mx, z[i * c + k]);
    let se = 0;
    for (let k = 0; k < c; k++) se += Math.exp(z[i * c + k] - mx);
    const lse = mx + Math.log(se);
    let mass = 0;
    for (let k = 0; k < c; k++) mass += y[i * c + k];
    for (let k = 0; k < c; k++) {
      total -= y[i * c + k] * (z[i * c + k] - lse);
      g.push((Math.exp(z[i * c + k] - lse) * mass - y[i * c + k]) / b);
    }
  }
  return { loss: total / b, grad: g };
}

test('cross-entropy with label smoothing matches a float64 reference, loss and gradient', async () => {
  const rng = new Rng(2, 2);
  const [b, c] = [6, 9];
  const z = randomLogits(rng, b, c, 4);
  const labels = Int32Array.from({ length: b }, () => rng.randint(0, c - 1));
  for (const s of [0, 0.1, 0.5]) {
    const y: number[] = [];
    for (let i = 0; i < b; i++) for (let k = 0; k < c; k++) y.push((k === labels[i] ? 1 - s : 0) + s / c);
    const ref = ceRef(z, y, b, c);
    const logits = tf.tensor2d(z, [b, c]);
    const { value, grad } = tf.valueAndGrad((x: tf.Tensor) => crossEntropy(x as tf.Tensor2D, labels, { smoothing: s }))(logits);
    assertClose([(await value.data())[0]], [ref.loss], `CE loss s=${s}`);
    assertClose(await grad.data(), ref.grad, `CE grad s=${s}`);
    tf.dispose([logits, value, grad]);
  }
});

test('soft-target cross-entropy (mixup targets) matches the reference; huge logits do not overflow', async () => {
  const rng = new Rng(3, 3);
  const [b, c] = [4, 5];
  const z = randomLogits(rng, b, c);
  z[0] = 1000; // logSoftmax subtracts the row max
  const y = Float32Array.from({ length: b * c }, () => rng.random());
  const ref = ceRef(z, y, b, c);
  const logits = tf.tensor2d(z, [b, c]);
  const yt = tf.tensor2d(y, [b, c]);
  const { value, grad } = tf.valueAndGrad((x: tf.Tensor) => softTargetCrossEntropy(x as tf.Tensor2D, yt))(logits);
  assertClose([(await value.data())[0]], [ref.loss], 'soft CE loss');
  assertClose(await grad.data(), ref.grad, 'soft CE grad');
  tf.dispose([logits, yt, value, grad]);
  assert.throws(() => crossEntropy(tf.zeros([2, 3]) as tf.Tensor2D, Int32Array.from([0, 3])), /label 3 at position 1 outside 0\.\.2/);
});
