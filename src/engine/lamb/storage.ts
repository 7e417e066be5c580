// Direct access to tensor storage on the backends that keep it where JS can reach it:
// wasm (views on the module's heap) and cpu (the backend's own Float32Arrays). Lets an
// optimizer update its private state in place and write results straight into a new tensor,
// instead of one tfjs op (and one fresh tensor) per arithmetic step.
//
// Rules for callers, because these are live views, not copies:
// - Only write into data nobody else holds: state you own whose refCount is 1, or a tensor
//   you just allocated. A parameter's data may be shared (tf.variable(t) and assign(t) share
//   t's buffer; on cpu even dataSync() returns the backing array), so write a NEW tensor
//   for it and assign that.
// - On wasm, allocating may grow the heap, which detaches every earlier view: allocate first,
//   then take views, and take them again after any allocation.
import * as tf from '@tensorflow/tfjs-core';
import type { TensorInfo } from '@tensorflow/tfjs-core';

export interface DirectStorage {
  readonly backendName: 'wasm' | 'cpu';
  /** A live view of a float32 tensor's values; null when t is not float32 or lives on another backend. */
  view(t: tf.Tensor): Float32Array | null;
  /** How many tensors share t's data (0 when it is not on this backend). */
  refCount(t: tf.Tensor): number;
  /** A new float32 tensor (owned by the caller) and a writable view of its values. */
  allocate(shape: number[]): { tensor: tf.Tensor; values: Float32Array };
}

/** BackendWasm's members used here (the class is not exported by the package). */
interface WasmBackendLike {
  dataIdMap: { has(dataId: object): boolean };
  makeOutput(shape: number[], dtype: 'float32'): TensorInfo;
  typedArrayFromHeap(t: TensorInfo): Float32Array;
  refCount(dataId: object): number;
}

/** MathBackendCPU's members used here. */
interface CpuBackendLike {
  data: { has(dataId: object): boolean; get(dataId: object): { values?: unknown } };
  makeTensorInfo(shape: number[], dtype: 'float32', values: Float32Array): TensorInfo;
  refCount(dataId: object): number;
}

function wasmStorage(backend: WasmBackendLike): DirectStorage {
  return {
    backendName: 'wasm',
    view: (t) => (t.dtype === 'float32' && backend.dataIdMap.has(t.dataId) ? backend.typedArrayFromHeap({ dataId: t.dataId, shape: t.shape, dtype: 'float32' }) : null),
    refCount: (t) => backend.refCount(t.dataId),
    allocate: (shape) => {
      const info = backend.makeOutput(shape, 'float32');
      const tensor = tf.engine().makeTensorFromTensorInfo(info);
      return { tensor, values: backend.typedArrayFromHeap(info) };
    },
  };
}

function cpuStorage(backend: CpuBackendLike): DirectStorage {
  return {
    backendName: 'cpu',
    view: (t) => {
      if (t.dtype !== 'float32' || !backend.data.has(t.dataId)) return null;
      const values = backend.data.get(t.dataId).values;
      return values instanceof Float32Array && values.length === t.size ? values : null;
    },
    refCount: (t) => backend.refCount(t.dataId),
    allocate: (shape) => {
      const values = new Float32Array(shape.reduce((a, b) => a * b, 1));
      // The cpu backend takes the array as the tensor's storage (no copy).
      const tensor = tf.engine().makeTensorFromTensorInfo(backend.makeTensorInfo(shape, 'float32', values));
      return { tensor, values };
    },
  };
}

/** Direct storage of the active backend, or null when it keeps data out of reach (tensorflow, webgl). */
export function directStorage(): DirectStorage | null {
  const name = tf.getBackend();
  if (name === 'wasm') return wasmStorage(tf.backend() as unknown as WasmBackendLike);
  if (name === 'cpu') return cpuStorage(tf.backend() as unknown as CpuBackendLike);
  return null;
}
