// Drop path beyond the goldens: the per-block linear rates, keep-mask statistics from the
// Rng, and identity in eval / at p = 0.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { Rng } from '../../src/util/rng.ts';
import { dropPath, dropPathKeepMask, dropPathKeepMaskFromStreams, dropPathRates, dropPathWithRng } from '../../src/train/drop-path.ts';

before(async () => {
  await tf.setBackend('cpu');
});

test('rates rise linearly from 0 to the max over the blocks (ResNet-50: 16 blocks, 0.05)', () => {
  const r = dropPathRates(16, 0.05);
  assert.equal(r.length, 16);
  assert.equal(r[0], 0);
  assert.equal(r[15], 0.05);
  for (let k = 0; k < 16; k++) assert.ok(Math.abs(r[k] - (0.05 * k) / 15) < 1e-15);
  assert.deepEqual(dropPathRates(1, 0.1), [0]);
  assert.deepEqual(dropPathRates(4, 0), [0, 0, 0, 0]);
  assert.throws(() => dropPathRates(0, 0.1), /nBlocks must be >= 1/);
});

test('keep mask: Bernoulli(1 - p) per sample, reproducible from the stream key', () => {
  const m = dropPathKeepMask(new Rng(3, 6, 0, 0), 20000, 0.2);
  const kept = m.reduce((a, v) => a + v, 0) / m.length;
  // Binomial sd = sqrt(.16/20000) = 0.0028; 4 sd.
  assert.ok(Math.abs(kept - 0.8) < 0.012, `kept ${kept}`);
  assert.deepEqual(dropPathKeepMask(new Rng(3, 6, 0, 1), 64, 0.5), dropPathKeepMask(new Rng(3, 6, 0, 1), 64, 0.5));
  assert.ok(dropPathKeepMask(new Rng(1), 100, 1).every((v) => v === 0));
  // Per-sample streams: sample i's decision depends only on its own stream.
  const streams = (ids: number[]) => ids.map((i) => new Rng(3, 6, 0, i));
  const whole = dropPathKeepMaskFromStreams(streams([0, 1, 2, 3, 4, 5]), 0.5);
  const half = dropPathKeepMaskFromStreams(streams([3, 4, 5]), 0.5);
  assert.deepEqual(Array.from(whole.subarray(3)), Array.from(half));
});

test('training: kept samples scaled by 1/keep, dropped ones zero; eval and p = 0 are the identity', async () => {
  const x = tf.ones([4, 2, 2, 3]);
  const y = dropPath(x, 0.25, Float32Array.from([1, 0, 1, 1]), { training: true });
  const v = await y.data();
  for (let i = 0; i < 4; i++) {
    const want = i === 1 ? 0 : Math.fround(1 / 0.75);
    for (let k = 0; k < 12; k++) assert.ok(Math.abs(v[i * 12 + k] - want) < 1e-7);
  }
  assert.equal(dropPath(x, 0.25, null, { training: false }), x);
  assert.equal(dropPath(x, 0, null, { training: true }), x);
  assert.equal(dropPathWithRng(x, 0.25, undefined, { training: false }), x);
  assert.throws(() => dropPath(x, 0.25, Float32Array.from([1, 1]), { training: true }), /keep mask of length 4/);
  assert.throws(() => dropPathWithRng(x, 0.25, undefined, { training: true }), /needs an Rng/);
  tf.dispose([x, y]);
});
