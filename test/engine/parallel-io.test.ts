// The data-parallel plumbing that now reads and writes tensor storage directly (parallel.ts
// readFlat / writeFlat / sumFlatToTensors, step.ts GradAccumulator): each must give exactly,
// bit for bit, what the tfjs-op / dataSync versions it replaced gave, on cpu and wasm.
// Values span many binades (and include exact ties after scaling) so that any difference in
// where a float32 rounding happens would show.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { gaussian, initBackends } from './backends.ts';
import { flatLayout, readFlat, sumFlatToTensors, writeFlat } from '../../src/engine/parallel.ts';
import { GradAccumulator } from '../../src/train/step.ts';

before(async () => {
  await initBackends();
});

const SHAPES = [[3, 3, 5, 7], [13], [1], [64, 10]];

/** Gaussian values scaled by 2^(-20..20), so sums round in every binade. */
function wide(n: number, seed: number, stream: number): Float32Array {
  const g = gaussian([n], seed, stream);
  return g.map((v, i) => v * 2 ** ((i * 7) % 41 - 20));
}

function bitsEqual(a: Float32Array, b: Float32Array, what: string): void {
  assert.equal(a.length, b.length, `${what}: length`);
  const ua = new Uint32Array(a.buffer, a.byteOffset, a.length), ub = new Uint32Array(b.buffer, b.byteOffset, b.length);
  for (let i = 0; i < a.length; i++) if (ua[i] !== ub[i]) assert.fail(`${what}[${i}]: ${a[i]} vs ${b[i]}`);
}

for (const backend of ['cpu', 'wasm'] as const) {
  test(`readFlat / writeFlat round-trip float32 and int32 variables exactly (${backend})`, async () => {
    await tf.setBackend(backend);
    const layout = flatLayout([...SHAPES, []]);
    const src = wide(layout.total, 1, 0);
    src[layout.total - 1] = 12345; // the int32 counter, stored as a float
    const vars = [...SHAPES.map((s) => tf.variable(tf.zeros(s))), tf.variable(tf.scalar(0, 'int32'))];
    const shared = tf.clone(vars[0]); // a tensor sharing nothing must stay untouched by writes
    writeFlat(vars, layout, src);
    const back = new Float32Array(layout.total);
    readFlat(vars, layout, back);
    bitsEqual(back, src, 'round trip');
    assert.equal(vars[vars.length - 1].dtype, 'int32');
    assert.equal((vars[vars.length - 1].dataSync() as Int32Array)[0], 12345);
    bitsEqual(shared.dataSync() as Float32Array, new Float32Array(shared.size), 'clone untouched');
    // Writing again replaces the data; the previous tensor of a variable is not written in place.
    const before0 = tf.clone(vars[0]);
    writeFlat(vars, layout, src.map((v) => -v));
    bitsEqual(before0.dataSync() as Float32Array, src.subarray(0, before0.size), 'old value kept');
    tf.dispose([...vars, shared, before0]);
  });

  test(`sumFlatToTensors = adding into a zeroed Float32Array in the same order (${backend})`, async () => {
    await tf.setBackend(backend);
    const layout = flatLayout(SHAPES);
    for (const count of [0, 1, 2, 3]) {
      const srcs = Array.from({ length: count }, (_, i) => wide(layout.total, 2, i));
      const want = new Float32Array(layout.total);
      for (const g of srcs) for (let k = 0; k < want.length; k++) want[k] += g[k];
      const got = sumFlatToTensors(srcs, layout, SHAPES);
      got.forEach((t, i) => {
        assert.deepEqual(t.shape, SHAPES[i]);
        bitsEqual(t.dataSync() as Float32Array, want.subarray(layout.offsets[i], layout.offsets[i] + layout.sizes[i]), `${count} sources, tensor ${i}`);
      });
      tf.dispose(got);
    }
  });

  test(`GradAccumulator in place = tf.add(s, tf.mul(g, w)) bit for bit, no leak (${backend})`, async () => {
    await tf.setBackend(backend);
    const weights = [8, 3, 5, 8];
    const steps = weights.map((_, j) => SHAPES.map((s, i) => tf.tensor(wide(s.reduce((a, b) => a * b, 1), 3 + j, i), s)));
    // Reference: the ops the accumulator used before.
    let ref = steps[0].map((g) => tf.mul(g, weights[0]));
    for (let j = 1; j < steps.length; j++) {
      const next = ref.map((s, i) => tf.add(s, tf.mul(steps[j][i], weights[j])));
      tf.dispose(ref);
      ref = next;
    }
    const before = tf.memory().numTensors;
    const acc = new GradAccumulator();
    acc.add(steps[0], weights[0]);
    const first = acc.tensors;
    steps.slice(1).forEach((g, j) => acc.add(g, weights[j + 1]));
    assert.equal(acc.tensors, first, 'later adds update the sums in place');
    assert.equal(tf.memory().numTensors, before + SHAPES.length, 'one sum tensor per parameter');
    acc.tensors!.forEach((t, i) => bitsEqual(t.dataSync() as Float32Array, ref[i].dataSync() as Float32Array, `sum ${i}`));
    // The inputs are not written.
    steps[0].forEach((g, i) => bitsEqual(g.dataSync() as Float32Array, wide(g.size, 3, i), `input ${i}`));
    const layout = flatLayout(SHAPES);
    const flat = new Float32Array(layout.total);
    acc.writeFlat(flat, layout.offsets);
    ref.forEach((t, i) => bitsEqual(flat.subarray(layout.offsets[i], layout.offsets[i] + layout.sizes[i]), t.dataSync() as Float32Array, `flat ${i}`));
    acc.reset();
    assert.equal(tf.memory().numTensors, before);
    tf.dispose([...ref, ...steps.flat()]);
  });
}
