// Data parallel: 2 workers give the same gradients (hence the same weights after an update)
// as 1 in-process replica, on the same global batch.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { selectBackend } from '../../src/engine/backend.ts';
import { createReplicas, type ReplicaSpec } from '../../src/engine/parallel.ts';
import { createResNet } from '../../src/model/resnet.ts';
import { Rng } from '../../src/util/rng.ts';
import type { MicroBatch } from '../../src/train/step.ts';

const BACKEND = (process.env.RSB_TEST_BACKEND ?? 'wasm') as 'wasm' | 'cpu';

function microBatches(count: number, n: number, size: number, classes: number): MicroBatch[] {
  const rng = new Rng(7, 1);
  return Array.from({ length: count }, (_, j) => {
    const images = new Uint8Array(n * size * size * 3).map(() => rng.randint(0, 255));
    const targets = new Float32Array(n * classes);
    for (let i = 0; i < n; i++) {
      const lam = rng.random();
      targets[i * classes + rng.randint(0, classes - 1)] += lam;
      targets[i * classes + rng.randint(0, classes - 1)] += 1 - lam;
    }
    const positions = Int32Array.from({ length: n }, (_, i) => j * n + i);
    return { epoch: 1, n, height: size, width: size, images, targets, positions };
  });
}

for (const transport of ['thread', 'process'] as const)
test(`2 replicas (${transport} transport) compute the same summed gradient as 1 in-process replica`, async () => {
  await selectBackend(BACKEND, { log: () => {} });
  const classes = 5;
  const spec: ReplicaSpec = {
    backend: BACKEND,
    arch: 'resnet_tiny',
    modelOptions: { numClasses: classes, dropPathRate: 0.1, seed: 3 },
    step: { numClasses: classes, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225], loss: { kind: 'bce', targetThreshold: 0.2 }, seed: 11 },
  };
  const model = createResNet('resnet_tiny', { numClasses: classes, dropPathRate: 0.1, seed: 3, zeroInitLast: false });
  const mbs = () => microBatches(4, 4, 32, classes);
  const one = await createReplicas(1, spec, model);
  const a = await one.gradients(model, mbs());
  // The local replica updated the lead's BN running stats; reset them by re-creating the model
  // state for the workers from the same init (only trainable weights matter for gradients,
  // and training-mode BN uses batch statistics).
  // 'process' is the GPU transport (one process per device, CUDA_VISIBLE_DEVICES each); it is
  // exercised here on wasm so that it is tested on every machine.
  const two = await createReplicas(2, spec, model, { transport, deviceIds: ['0', '1'] });
  try {
    await two.syncAll(model);
    const b = await two.gradients(model, mbs());
    assert.equal(b.samples, a.samples);
    assert.ok(Math.abs(b.lossSum - a.lossSum) <= 1e-5 * Math.abs(a.lossSum), `loss ${a.lossSum} vs ${b.lossSum}`);
    assert.equal(b.correct, a.correct);
    let maxErr = 0, maxRef = 0;
    a.grads.forEach((g, i) => {
      const x = g.dataSync(), y = b.grads[i].dataSync();
      for (let k = 0; k < x.length; k++) {
        maxErr = Math.max(maxErr, Math.abs(x[k] - y[k]));
        maxRef = Math.max(maxRef, Math.abs(x[k]));
      }
    });
    // Same micro-batches, same drop-path streams: only the order of float32 sums differs
    // (a few ulps of the largest gradient entry).
    assert.ok(maxErr <= 1e-5 * maxRef, `max |diff| ${maxErr} vs max |grad| ${maxRef}`);
    // BN averaging runs and leaves the lead model with finite stats.
    await two.averageBatchNorm(model);
    for (const buf of model.buffers) assert.ok([...buf.variable.dataSync()].every(Number.isFinite), buf.name);
  } finally {
    await two.close();
    for (const t of [...a.grads]) t.dispose();
    model.dispose();
  }
});
