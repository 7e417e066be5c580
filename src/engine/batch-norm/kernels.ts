// Fused training-mode BatchNorm kernels for the wasm and cpu backends, and their gradient.
//
// Why: composed from tfjs ops, training BatchNorm costs ~14 element-wise passes over every
// activation per step (moments, normalisation, and the backward's subtractions, products and
// sums), about a fifth of a ResNet-50 step on wasm. These kernels do 3 passes forward and 2
// backward (./math.ts). Outputs of the forward kernel: y, batch mean, biased batch variance.
// Gradients flow through y only: the statistics are for the running-average update, which is
// never on the path to the loss.
import * as tf from '@tensorflow/tfjs-core';
import type { KernelConfig, KernelFunc, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs-core';
import { BACKWARD_WORK, FORWARD_WORK, batchNormTrainBackward, batchNormTrainForward, jsPasses, type BatchNormPasses } from './math.ts';
import { heapPasses } from './simd.ts';
import { heapKernels } from '../wasm-kernels/heap-module.ts';

export const BN_TRAIN = 'RsbBatchNormTrain';
export const BN_TRAIN_GRAD = 'RsbBatchNormTrainGrad';

/** Reading inputs and making outputs, per backend (their storage differs). */
interface Storage {
  read(backend: unknown, t: TensorInfo): Float32Array;
  /**
   * Makes every output and `workF64` float64 of scratch first, then returns views (wasm views
   * detach when the heap grows), the passes to run on them, and release() for the scratch.
   */
  outputs(backend: unknown, shapes: number[][], workF64: number): Outputs;
}

interface Outputs {
  infos: TensorInfo[];
  views: Float32Array[];
  work: Float64Array;
  passes: BatchNormPasses;
  release(): void;
}

interface WasmLike {
  makeOutput(shape: number[], dtype: 'float32'): TensorInfo;
  typedArrayFromHeap(t: TensorInfo): Float32Array;
  disposeData(dataId: object): boolean;
}
interface CpuLike {
  data: { get(dataId: object): { values: unknown } };
  makeTensorInfo(shape: number[], dtype: 'float32', values: Float32Array): TensorInfo;
}

const wasmStorage: Storage = {
  read: (backend, t) => (backend as WasmLike).typedArrayFromHeap(t),
  outputs: (backend, shapes, workF64) => {
    const b = backend as WasmLike;
    const k = heapKernels(backend);
    const infos = shapes.map((s) => b.makeOutput(s, 'float32'));
    // The scratch lives on the heap too when the SIMD passes run, so they can address it.
    const scratch = k ? b.makeOutput([2 * workF64 + 2], 'float32') : null;
    const views = infos.map((i) => b.typedArrayFromHeap(i));
    let work: Float64Array = new Float64Array(workF64);
    if (scratch) {
      const f = b.typedArrayFromHeap(scratch);
      work = new Float64Array(f.buffer, (f.byteOffset + 7) & ~7, workF64); // 8-aligned (malloc gives >= 8)
    }
    return {
      infos, views, work,
      passes: k ? heapPasses(k) : jsPasses,
      release: () => { if (scratch) b.disposeData(scratch.dataId); },
    };
  },
};

const cpuStorage: Storage = {
  read: (backend, t) => {
    const v = (backend as CpuLike).data.get(t.dataId).values;
    if (!(v instanceof Float32Array)) throw new Error(`${BN_TRAIN} (cpu): inputs must be float32, got ${t.dtype}`);
    return v;
  },
  outputs: (backend, shapes, workF64) => {
    const views = shapes.map((s) => new Float32Array(s.reduce((a, b) => a * b, 1)));
    // The cpu backend takes ownership of the arrays; filling them after makeTensorInfo is fine.
    const infos = shapes.map((s, i) => (backend as CpuLike).makeTensorInfo(s, 'float32', views[i]));
    return { infos, views, work: new Float64Array(workF64), passes: jsPasses, release: () => {} };
  },
};

function checkShapes(x: TensorInfo, perChannel: TensorInfo[]): { rows: number; c: number } {
  if (x.shape.length < 2) throw new Error(`${BN_TRAIN}: input must have a channel axis, got shape [${x.shape}]`);
  const c = x.shape[x.shape.length - 1];
  for (const t of perChannel) {
    if (t.shape.length !== 1 || t.shape[0] !== c) throw new Error(`${BN_TRAIN}: per-channel tensors must be [${c}], got [${t.shape}]`);
  }
  const rows = x.shape.reduce((a, b) => a * b, 1) / c;
  if (rows < 1) throw new Error(`${BN_TRAIN}: empty input [${x.shape}]`);
  return { rows, c };
}

function forwardKernel(storage: Storage) {
  return (args: { inputs: { x: TensorInfo; gamma: TensorInfo; beta: TensorInfo }; backend: unknown; attrs: NamedAttrMap }): TensorInfo[] => {
    const { x, gamma, beta } = args.inputs;
    const eps = args.attrs.eps as number;
    const { rows, c } = checkShapes(x, [gamma, beta]);
    const o = storage.outputs(args.backend, [x.shape, [c], [c]], FORWARD_WORK * c);
    const read = (t: TensorInfo) => storage.read(args.backend, t);
    try {
      batchNormTrainForward(read(x), rows, c, read(gamma), read(beta), eps, o.views[0], o.views[1], o.views[2], o.passes, o.work);
    } finally {
      o.release();
    }
    return o.infos;
  };
}

function backwardKernel(storage: Storage) {
  return (args: { inputs: { dy: TensorInfo; x: TensorInfo; gamma: TensorInfo; mean: TensorInfo; variance: TensorInfo }; backend: unknown; attrs: NamedAttrMap }): TensorInfo[] => {
    const { dy, x, gamma, mean, variance } = args.inputs;
    const eps = args.attrs.eps as number;
    const { rows, c } = checkShapes(x, [gamma, mean, variance]);
    const o = storage.outputs(args.backend, [x.shape, [c], [c]], BACKWARD_WORK * c);
    const read = (t: TensorInfo) => storage.read(args.backend, t);
    try {
      batchNormTrainBackward(read(dy), read(x), rows, c, read(gamma), read(mean), read(variance), eps, o.views[0], o.views[1], o.views[2], o.passes, o.work);
    } finally {
      o.release();
    }
    return o.infos;
  };
}

export const BATCH_NORM_KERNELS: readonly KernelConfig[] = [
  { kernelName: BN_TRAIN, backendName: 'wasm', kernelFunc: forwardKernel(wasmStorage) as unknown as KernelFunc },
  { kernelName: BN_TRAIN_GRAD, backendName: 'wasm', kernelFunc: backwardKernel(wasmStorage) as unknown as KernelFunc },
  { kernelName: BN_TRAIN, backendName: 'cpu', kernelFunc: forwardKernel(cpuStorage) as unknown as KernelFunc },
  { kernelName: BN_TRAIN_GRAD, backendName: 'cpu', kernelFunc: backwardKernel(cpuStorage) as unknown as KernelFunc },
];

let registered = false;

/** Registers the kernels (wasm and cpu) and the gradient (idempotent). */
export function registerBatchNormKernels(): void {
  if (registered) return;
  registered = true;
  for (const k of BATCH_NORM_KERNELS) if (!tf.getKernel(k.kernelName, k.backendName)) tf.registerKernel(k);
  if (!tf.getGradient(BN_TRAIN)) {
    tf.registerGradient({
      kernelName: BN_TRAIN,
      inputsToSave: ['x', 'gamma'],
      outputsToSave: [false, true, true],
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[], attrs: NamedAttrMap) => {
        const [x, gamma, mean, variance] = saved;
        const dyY = Array.isArray(dy) ? dy[0] : dy;
        const [dx, dgamma, dbeta] = tf.engine().runKernel(BN_TRAIN_GRAD, { dy: dyY, x, gamma, mean, variance }, attrs) as tf.Tensor[];
        return { x: () => dx, gamma: () => dgamma, beta: () => dbeta };
      },
    });
  }
}
