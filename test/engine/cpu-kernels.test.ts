// Our cpu Conv2DBackpropFilter against tfjs-backend-cpu's own (the independent reference),
// on the same shapes as the wasm kernels, within the worst-case float32 sum bound.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { abs, gaussian, initBackends, on, withinSumBound } from './backends.ts';
import { registerCpuTrainingKernels, unregisterCpuTrainingKernels } from '../../src/engine/cpu-kernels/index.ts';
import { CONV_CASES, filterGrad, outShape } from './conv-cases.ts';

before(async () => {
  await initBackends();
});

for (const [k, c] of CONV_CASES.entries()) {
  test(`Conv2DBackpropFilter ours = tfjs cpu: ${c.name}`, async () => {
    const dyShape = outShape(c);
    const x = gaussian(c.x, 11, 2 * k);
    const dy = gaussian(dyShape, 11, 2 * k + 1);
    unregisterCpuTrainingKernels();
    const want = await on('cpu', filterGrad(c, x, dy, dyShape));
    const bound = await on('cpu', filterGrad(c, abs(x), abs(dy), dyShape));
    registerCpuTrainingKernels();
    const got = await on('cpu', filterGrad(c, x, dy, dyShape));
    assert.deepEqual(got.shape, c.f);
    assert.equal(withinSumBound(got.values, want.values, bound.values, dyShape[0] * dyShape[1] * dyShape[2]), null);
  });
}
