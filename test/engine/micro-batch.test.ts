// Gradient accumulation: micro-batched gradients equal the full-batch gradient (on a model
// without BatchNorm, where the two are mathematically identical), unequal splits are weighted
// right, nothing leaks, and the planner and memory helper behave at their edges.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { gaussian, initBackends, relMaxDiff } from './backends.ts';
import { accumulateGradients, maxMicroBatchSize, planMicroBatches } from '../../src/engine/micro-batch.ts';

/** A variable from a tensor, freeing the tensor (tf.variable keeps its argument alive). */
function variable(init: tf.Tensor, name: string): tf.Variable {
  const v = tf.variable(init, true, name);
  init.dispose();
  return v;
}

before(async () => {
  await initBackends();
});

test('planMicroBatches: even splits covering the batch in order', () => {
  assert.deepEqual(planMicroBatches(10, 4).map((m) => m.size), [4, 3, 3]);
  assert.deepEqual(planMicroBatches(8, 8).map((m) => m.size), [8]);
  assert.deepEqual(planMicroBatches(3, 8).map((m) => m.size), [3]);
  for (const [b, m] of [[32, 5], [7, 1], [64, 16]]) {
    const plan = planMicroBatches(b, m);
    assert.equal(plan.reduce((n, p) => n + p.size, 0), b);
    plan.forEach((p, i) => {
      assert.ok(p.size <= m && p.size >= 1);
      assert.equal(p.start, i === 0 ? 0 : plan[i - 1].start + plan[i - 1].size);
    });
  }
  assert.throws(() => planMicroBatches(0, 4), /batch size/);
  assert.throws(() => planMicroBatches(4, 0), /micro-batch size/);
});

test('maxMicroBatchSize: budget arithmetic and a clear error when nothing fits', () => {
  assert.equal(maxMicroBatchSize({ bytesPerSample: 100, residentBytes: 50, budgetBytes: 1050 }), 10);
  assert.equal(maxMicroBatchSize({ bytesPerSample: 100, residentBytes: 50, budgetBytes: 1050, batchSize: 4 }), 4);
  assert.throws(() => maxMicroBatchSize({ bytesPerSample: 100, residentBytes: 1000, budgetBytes: 1050 }), /not even one sample fits/);
});

for (const backend of ['cpu', 'wasm'] as const) {
  test(`accumulateGradients (${backend}): micro-batches 3+2+2 of 7 give the full-batch loss and gradient`, async () => {
    await tf.setBackend(backend);
    const before = tf.memory().numTensors;
    const n = 7;
    const x = tf.tensor4d(gaussian([n, 6, 6, 3], 9, 0), [n, 6, 6, 3]);
    const y = tf.tensor2d(gaussian([n, 4], 9, 1), [n, 4]);
    const w1 = variable(tf.tensor4d(gaussian([3, 3, 3, 5], 9, 2), [3, 3, 3, 5]), 'mb_w1');
    const w2 = variable(tf.tensor2d(gaussian([5, 4], 9, 3), [5, 4]), 'mb_w2');
    const vars = [w1, w2];
    // A conv net with a per-sample loss and no cross-sample coupling (no BatchNorm).
    const meanLoss = (xs: tf.Tensor4D, ys: tf.Tensor2D) =>
      tf.tidy(() => {
        const h = tf.relu(tf.conv2d(xs, w1 as tf.Tensor4D, 2, [[0, 0], [1, 1], [1, 1], [0, 0]]));
        const z = tf.matMul(tf.mean(h, [1, 2]) as tf.Tensor2D, w2 as tf.Tensor2D);
        return tf.mean(tf.square(tf.sub(z, ys))) as tf.Scalar;
      });
    const full = tf.variableGrads(() => meanLoss(x, y), vars);
    const plan = planMicroBatches(n, 3);
    assert.deepEqual(plan.map((m) => m.size), [3, 2, 2]);
    const acc = accumulateGradients(
      plan,
      (mb) => meanLoss(tf.slice(x, [mb.start], [mb.size]), tf.slice(y, [mb.start], [mb.size])),
      vars,
    );
    // Same maths, different float32 summation order: differences are a few ulps of the largest value.
    assert.ok(relMaxDiff(await acc.loss.data(), await full.value.data()) < 1e-5);
    for (const name of ['mb_w1', 'mb_w2']) {
      const d = relMaxDiff(await acc.grads[name].data(), await full.grads[name].data());
      assert.ok(d < 1e-5, `${name}: relative max difference ${d}`);
    }
    // An unweighted sum would be off by the micro-batch count: make sure the test can tell.
    assert.ok(relMaxDiff((await acc.grads.mb_w2.data()).map((v) => v * 3), await full.grads.mb_w2.data()) > 0.5);
    tf.dispose([acc.loss, full.value, ...Object.values(acc.grads), ...Object.values(full.grads), x, y, w1, w2]);
    assert.equal(tf.memory().numTensors, before, 'accumulateGradients leaked tensors');
  });
}

test('accumulateGradients: a single micro-batch is the plain gradient, bit for bit', async () => {
  await tf.setBackend('cpu');
  const w = variable(tf.tensor1d([1, -2, 3]), 'mb_single');
  const f = () => tf.sum(tf.mul(w, w)) as tf.Scalar;
  const plain = tf.variableGrads(f, [w]);
  const acc = accumulateGradients(planMicroBatches(4, 4), f, [w]);
  assert.deepEqual(await acc.grads.mb_single.data(), await plain.grads.mb_single.data());
  tf.dispose([acc.loss, plain.value, ...Object.values(acc.grads), ...Object.values(plain.grads), w]);
});
