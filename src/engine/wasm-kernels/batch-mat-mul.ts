// BatchMatMul and _FusedMatMul for the wasm backend, with transposes done explicitly.
//
// tfjs-backend-wasm multiplies fast (XNNPACK) only when neither operand is flagged transposed;
// with transposeA or transposeB it runs a naive loop, measured here 14x (transposeB) to 30x
// (transposeA) slower. Backprop through a linear layer asks for exactly those products
// (dW = x^T @ dy, dx = dy @ W^T). A transpose is a single memory pass (compose.ts swapLastTwo), so we
// transpose the flagged operand first and call the original kernel without flags. Numerically identical
// to the flagged product up to float32 summation order.
import type { KernelConfig, KernelFunc, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs-core';
import { call, free, swapLastTwo, type WasmBackendLike } from './compose.ts';

function withoutTransposeFlags(kernelName: 'BatchMatMul' | '_FusedMatMul') {
  return (args: { inputs: Record<string, TensorInfo>; backend: WasmBackendLike; attrs: NamedAttrMap }): TensorInfo => {
    const { backend, inputs, attrs } = args;
    const transposeA = attrs.transposeA === true;
    const transposeB = attrs.transposeB === true;
    if (!transposeA && !transposeB) return call(backend, kernelName, inputs, attrs);
    const a = transposeA ? swapLastTwo(backend, inputs.a) : inputs.a;
    const b = transposeB ? swapLastTwo(backend, inputs.b) : inputs.b;
    const out = call(backend, kernelName, { ...inputs, a, b }, { ...attrs, transposeA: false, transposeB: false });
    if (transposeA) free(backend, a);
    if (transposeB) free(backend, b);
    return out;
  };
}

export const batchMatMulConfig: KernelConfig = {
  kernelName: 'BatchMatMul',
  backendName: 'wasm',
  kernelFunc: withoutTransposeFlags('BatchMatMul') as unknown as KernelFunc,
};

export const fusedMatMulConfig: KernelConfig = {
  kernelName: '_FusedMatMul',
  backendName: 'wasm',
  kernelFunc: withoutTransposeFlags('_FusedMatMul') as unknown as KernelFunc,
};
