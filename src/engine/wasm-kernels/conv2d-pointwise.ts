// Conv2D for the wasm backend: plain 1x1 convolutions with small filters through our SIMD GEMM
// (./pointwise-gemm.ts says why and when), everything else through tfjs-wasm's own kernel.
// A 1x1, stride-1, unpadded, undilated NHWC convolution IS x [N*H*W, Cin] @ W [Cin, Cout].
import type { KernelConfig, KernelFunc, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs-core';
import { call, type WasmBackendLike } from './compose.ts';
import { heapKernels } from './heap-module.ts';
import { gemmFits, heapMatMul } from './pointwise-gemm.ts';

const ones = (v: unknown): boolean => v === undefined || v === 1 || (Array.isArray(v) && v.every((d) => d === 1));
const noPadding = (pad: unknown): boolean =>
  pad === 0 || pad === 'valid' || pad === 'same' ||
  (Array.isArray(pad) && pad.every((p) => (Array.isArray(p) ? p.every((q) => q === 0) : p === 0)));

export function conv2DWasm(args: { inputs: { x: TensorInfo; filter: TensorInfo }; backend: WasmBackendLike; attrs: NamedAttrMap }): TensorInfo {
  const { x, filter } = args.inputs;
  const { strides, pad, dataFormat, dilations } = args.attrs as unknown as { strides: unknown; pad: unknown; dataFormat?: string; dilations?: unknown };
  const [kh, kw, cin, cout] = filter.shape;
  const k = heapKernels(args.backend);
  // 'same' with a 1x1 filter at stride 1 pads nothing
  const pointwise = kh === 1 && kw === 1 && ones(strides) && ones(dilations) && noPadding(pad) &&
    (dataFormat === undefined || dataFormat === 'NHWC') && x.dtype === 'float32' && filter.dtype === 'float32';
  if (k && pointwise && gemmFits(cin, cout)) {
    const [n, h, w] = x.shape;
    return heapMatMul(args.backend, k, x, filter, n * h * w, cin, cout, [n, h, w, cout]);
  }
  return call(args.backend, 'Conv2D', args.inputs, args.attrs);
}

export const conv2DConfig: KernelConfig = {
  kernelName: 'Conv2D',
  backendName: 'wasm',
  kernelFunc: conv2DWasm as unknown as KernelFunc,
};
