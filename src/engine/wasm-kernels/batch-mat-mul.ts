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

const sizeOfInfo = (t: TensorInfo) => t.shape.reduce((p, d) => p * d, 1);

function withoutTransposeFlags(kernelName: 'BatchMatMul' | '_FusedMatMul') {
  return (args: { inputs: Record<string, TensorInfo>; backend: WasmBackendLike; attrs: NamedAttrMap }): TensorInfo => {
    const { backend, inputs, attrs } = args;
    const transposeA = attrs.transposeA === true;
    const transposeB = attrs.transposeB === true;
    if (!transposeA && !transposeB) return call(backend, kernelName, inputs, attrs);
    if (kernelName === 'BatchMatMul' && transposedProductIsCheaper(inputs.a, inputs.b, transposeA, transposeB)) {
      return viaTransposedProduct(backend, inputs.a, inputs.b, transposeA, transposeB);
    }
    const a = transposeA ? swapLastTwo(backend, inputs.a) : inputs.a;
    const b = transposeB ? swapLastTwo(backend, inputs.b) : inputs.b;
    const out = call(backend, kernelName, { ...inputs, a, b }, { ...attrs, transposeA: false, transposeB: false });
    if (transposeA) free(backend, a);
    if (transposeB) free(backend, b);
    return out;
  };
}

/**
 * Elements to move for op(a) @ op(b) directly (the flagged operands transposed) versus as
 * (op(b)^T @ op(a)^T)^T (the UNflagged operands transposed, then the product). The linear
 * layer's dx = dy @ W^T has a tiny dy and a big W (8 x 1000 and 2048 x 1000 in a resnet50
 * micro-batch): transposing dy and the 8 x 2048 result moves 24 K elements instead of W's 2 M
 * (25 -> well under 1 ms). Not for _FusedMatMul: its bias and activation apply to the output.
 */
function transposedProductIsCheaper(a: TensorInfo, b: TensorInfo, transposeA: boolean, transposeB: boolean): boolean {
  const direct = (transposeA ? sizeOfInfo(a) : 0) + (transposeB ? sizeOfInfo(b) : 0);
  const rank = Math.max(a.shape.length, b.shape.length);
  const m = a.shape[a.shape.length - (transposeA ? 1 : 2)];
  const n = b.shape[b.shape.length - (transposeB ? 2 : 1)];
  const batch = Math.max(sizeOfInfo(a) / (a.shape[a.shape.length - 1] * a.shape[a.shape.length - 2]), sizeOfInfo(b) / (b.shape[b.shape.length - 1] * b.shape[b.shape.length - 2]));
  const swapped = (transposeA ? 0 : sizeOfInfo(a)) + (transposeB ? 0 : sizeOfInfo(b)) + batch * m * n;
  return rank >= 2 && swapped < direct;
}

/** op(a) @ op(b) = (op(b)^T @ op(a)^T)^T, where op(b)^T is b itself when b is flagged (and likewise a). */
function viaTransposedProduct(backend: WasmBackendLike, a: TensorInfo, b: TensorInfo, transposeA: boolean, transposeB: boolean): TensorInfo {
  const left = transposeB ? b : swapLastTwo(backend, b);
  const right = transposeA ? a : swapLastTwo(backend, a);
  const outT = call(backend, 'BatchMatMul', { a: left, b: right }, { transposeA: false, transposeB: false });
  if (!transposeB) free(backend, left);
  if (!transposeA) free(backend, right);
  const out = swapLastTwo(backend, outT);
  free(backend, outT);
  return out;
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
