// Identity for the wasm backend without a copy: the output shares the input's heap buffer.
//
// Why: tfjs-core's engine clones (Identity) every tensor a kernel saves for its gradient, and
// tfjs-wasm's Identity copies the buffer. In a resnet50 training step at 128 px (batch 8) that
// was 515 copies, ~45 ms and several hundred MB of extra heap for the activations that convs,
// BatchNorm and ReLU keep. Sharing is what tfjs-cpu's Identity and tfjs-wasm's own Reshape
// already do: the backend counts references per buffer (incRef here, disposeData decrements),
// and the buffer is freed when the last holder is disposed. Tensors are immutable in tfjs, so
// sharing is invisible, with one rule for code that writes into heap buffers directly: write
// only into buffers whose refCount is 1 (src/engine/lamb/storage.ts states and follows it; our
// kernels only ever write into outputs they have just allocated).
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { call, type WasmBackendLike } from './compose.ts';

interface RefCounting {
  incRef(dataId: object): void;
}

export function identityWasm(args: { inputs: { x: TensorInfo }; backend: WasmBackendLike }): TensorInfo {
  const { x } = args.inputs;
  // Strings live outside the heap: leave them to tfjs-wasm's own kernel.
  if (x.dtype === 'string') return call(args.backend, 'Identity', args.inputs);
  (args.backend as unknown as RefCounting).incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
}

export const identityConfig: KernelConfig = {
  kernelName: 'Identity',
  backendName: 'wasm',
  kernelFunc: identityWasm as unknown as KernelFunc,
};
