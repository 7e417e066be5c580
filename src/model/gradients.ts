// Our own gradient functions for the kernels a ResNet training step differentiates.
//
// Why: tfjs-core's Node bundle ships no gradient functions, and the per-kernel modules it
// does ship (dist/gradients/*.js) use extension-less ES imports that only a bundler or tsx
// can resolve; Deno, which must run our entry points too, cannot load them (see ./tf.ts). A
// training step only differentiates a handful of kernels (the model's convolutions, pooling,
// ReLU, residual adds, drop-path multiplies, global mean, the fc matMul; BatchNorm and the
// losses carry their own tf.customGrad), so we write those from their definitions and
// register them on every runtime. Numerics are then the same under Node and Deno.
// test/model/gradients.test.ts checks each against tfjs's own function and finite differences.
import * as tf from '@tensorflow/tfjs-core';

type Grads = Record<string, () => tf.Tensor>;
type Attrs = Record<string, unknown>;

const run = (kernel: string, inputs: Record<string, tf.Tensor>, attrs: Attrs = {}) =>
  tf.engine().runKernel(kernel, inputs as tf.NamedTensorMap, attrs as tf.NamedAttrMap) as tf.Tensor;

/**
 * The gradient of a broadcasting binary op's operand of shape `shape`: sum dy over the axes
 * that broadcasting added (leading ones) or stretched (size 1 in `shape`), then restore shape.
 */
export function reduceToShape(dy: tf.Tensor, shape: readonly number[]): tf.Tensor {
  const lead = dy.rank - shape.length;
  const axes: number[] = [];
  for (let i = 0; i < dy.rank; i++) {
    const s = i - lead;
    if (s < 0 || (shape[s] === 1 && dy.shape[i] !== 1)) axes.push(i);
  }
  return tf.reshape(axes.length ? tf.sum(dy, axes) : dy, shape as number[]);
}

/** Reduction axes of a Mean/Sum kernel call, as non-negative indices. */
function reductionAxes(axis: unknown, rank: number): number[] {
  if (axis === null || axis === undefined) return Array.from({ length: rank }, (_, i) => i);
  const list = Array.isArray(axis) ? (axis as number[]) : [axis as number];
  return list.map((a) => (a < 0 ? a + rank : a));
}

/** dy of a reduction, broadcast back over the reduced axes of x. */
function expandReduced(dy: tf.Tensor, x: tf.Tensor, axes: number[]): tf.Tensor {
  const kept = x.shape.map((d, i) => (axes.includes(i) ? 1 : d));
  return tf.broadcastTo(tf.reshape(dy, kept), x.shape);
}

function assertUnitDilation(kernel: string, dilations: unknown): void {
  const d = dilations === undefined ? [1, 1] : Array.isArray(dilations) ? dilations : [dilations, dilations];
  if (d.some((v) => v !== 1)) throw new Error(`gradient of ${kernel}: dilations [${d}] are not supported (the ResNets use 1)`);
}

export const trainingGradients: tf.GradConfig[] = [
  {
    // y = x (*) w. dx: the transposed convolution of dy with w; dw: the correlation of x with dy.
    kernelName: 'Conv2D',
    inputsToSave: ['x', 'filter'],
    gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[], attrs: Attrs): Grads => {
      const [x, w] = saved;
      assertUnitDilation('Conv2D', attrs.dilations);
      const common = { strides: attrs.strides, pad: attrs.pad, dataFormat: attrs.dataFormat, dimRoundingMode: attrs.dimRoundingMode };
      return {
        x: () => run('Conv2DBackpropInput', { dy: dy as tf.Tensor, filter: w }, { ...common, inputShape: x.shape }),
        filter: () => run('Conv2DBackpropFilter', { x, dy: dy as tf.Tensor }, { ...common, filterShape: w.shape }),
      };
    },
  },
  {
    // Each output is one input cell: dy goes back to the arg-max cell of its window.
    kernelName: 'MaxPool',
    inputsToSave: ['x'],
    outputsToSave: [true],
    gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[], attrs: Attrs): Grads => {
      const [x, y] = saved;
      return {
        x: () => run('MaxPoolGrad', { dy: dy as tf.Tensor, input: x, output: y }, {
          filterSize: attrs.filterSize, strides: attrs.strides, pad: attrs.pad, dimRoundingMode: attrs.dimRoundingMode,
        }),
      };
    },
  },
  {
    // d relu(x)/dx = 1 where x > 0, else 0. step() already returns float32 for float input,
    // so no cast (a full-size copy on wasm) is needed.
    kernelName: 'Relu',
    inputsToSave: ['x'],
    gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]): Grads => ({ x: () => tf.mul(dy as tf.Tensor, tf.step(saved[0])) }),
  },
  {
    kernelName: 'Add',
    inputsToSave: ['a', 'b'],
    gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]): Grads => ({
      a: () => reduceToShape(dy as tf.Tensor, saved[0].shape),
      b: () => reduceToShape(dy as tf.Tensor, saved[1].shape),
    }),
  },
  {
    kernelName: 'Sub',
    inputsToSave: ['a', 'b'],
    gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]): Grads => ({
      a: () => reduceToShape(dy as tf.Tensor, saved[0].shape),
      b: () => tf.neg(reduceToShape(dy as tf.Tensor, saved[1].shape)),
    }),
  },
  {
    kernelName: 'Multiply',
    inputsToSave: ['a', 'b'],
    gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]): Grads => {
      const [a, b] = saved;
      return {
        a: () => reduceToShape(tf.mul(dy as tf.Tensor, b), a.shape),
        b: () => reduceToShape(tf.mul(dy as tf.Tensor, a), b.shape),
      };
    },
  },
  {
    kernelName: 'Neg',
    gradFunc: (dy: tf.Tensor | tf.Tensor[]): Grads => ({ x: () => tf.neg(dy as tf.Tensor) }),
  },
  {
    // Every reduced input contributes 1/count of the mean.
    kernelName: 'Mean',
    inputsToSave: ['x'],
    gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[], attrs: Attrs): Grads => {
      const [x] = saved;
      const axes = reductionAxes(attrs.axis, x.rank);
      const count = axes.reduce((n, a) => n * x.shape[a], 1);
      return { x: () => tf.div(expandReduced(dy as tf.Tensor, x, axes), count) };
    },
  },
  {
    kernelName: 'Sum',
    inputsToSave: ['x'],
    gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[], attrs: Attrs): Grads => {
      const [x] = saved;
      return { x: () => expandReduced(dy as tf.Tensor, x, reductionAxes(attrs.axis, x.rank)) };
    },
  },
  {
    // C = op(A) op(B). For C = A B: dA = dC B^T, dB = A^T dC; the transposed variants follow
    // by transposing those identities. Same-rank operands only (no batch broadcasting).
    kernelName: 'BatchMatMul',
    inputsToSave: ['a', 'b'],
    gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[], attrs: Attrs): Grads => {
      const [a, b] = saved;
      const g = dy as tf.Tensor;
      if (a.rank !== b.rank || a.shape.slice(0, -2).join() !== b.shape.slice(0, -2).join()) {
        throw new Error(`gradient of BatchMatMul: operands [${a.shape}] and [${b.shape}] broadcast their batch dims (not supported)`);
      }
      const tA = !!attrs.transposeA, tB = !!attrs.transposeB;
      const mm = (x: tf.Tensor, y: tf.Tensor, tx: boolean, ty: boolean) => tf.matMul(x, y, tx, ty);
      if (!tA && !tB) return { a: () => mm(g, b, false, true), b: () => mm(a, g, true, false) };
      if (!tA && tB) return { a: () => mm(g, b, false, false), b: () => mm(g, a, true, false) };
      if (tA && !tB) return { a: () => mm(b, g, false, true), b: () => mm(a, g, false, false) };
      return { a: () => mm(b, g, true, true), b: () => mm(g, a, true, true) };
    },
  },
  {
    kernelName: 'Reshape',
    inputsToSave: ['x'],
    gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]): Grads => ({ x: () => tf.reshape(dy as tf.Tensor, saved[0].shape) }),
  },
  {
    kernelName: 'Identity',
    gradFunc: (dy: tf.Tensor | tf.Tensor[]): Grads => ({ x: () => tf.clone(dy as tf.Tensor) }),
  },
  {
    // Float-to-float casts only carry the gradient through; from integers there is none.
    kernelName: 'Cast',
    inputsToSave: ['x'],
    gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]): Grads => ({
      x: () => (saved[0].dtype === 'float32' ? tf.clone(dy as tf.Tensor) : tf.zerosLike(saved[0])),
    }),
  },
];

/** Registers (or replaces) the gradients above. Idempotent. */
export function registerTrainingGradients(): void {
  for (const g of trainingGradients) tf.registerGradient(g);
}
