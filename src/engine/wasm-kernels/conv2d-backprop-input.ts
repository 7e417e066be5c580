// Conv2DBackpropInput for the wasm backend, replacing tfjs-backend-wasm's own: that one is a
// direct 7-deep loop (measured ~2 GFLOP/s here, ten times slower than its forward convolution),
// and the input gradient is a third of a training step's convolution work.
//
// The input gradient of a convolution is itself a convolution, so we reuse the fast native
// forward kernel (XNNPACK):
//   - 1x1, no padding: dx = dy @ W^T, one matrix product (W^T is tiny, transposed explicitly
//     because the wasm matMul is only fast without transpose flags); with stride s the product
//     lands on every s-th pixel, the others are zero.
//   - k x k, stride 1: dx = dy correlated with the filter rotated by 180 degrees and with its in
//     and out channels swapped, padded by (k - 1 - forward padding) on each side.
//   - k x k, stride s: s*s such correlations with sub-filters, one per output phase, interleaved
//     (./conv-transpose-phases.ts): no multiply-adds on the zeros a zero-stuffed dy would have.
//   - k x k with few output pixels and many weights (deep layers): W @ dy^T and a scatter-add
//     (./conv-transpose-gemm.ts), which spares packing a new filter for the native conv.
import type { KernelConfig, KernelFunc, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs-core';
import { call, free, matMul2d, reshape, swapLastTwo, transpose2d, type WasmBackendLike } from './compose.ts';
import { convGeometry, type ConvGeometry } from '../conv-geometry.ts';
import { inputGradByPhases } from './conv-transpose-phases.ts';
import { GEMM_PATH_RATIO, inputGradByGemm } from './conv-transpose-gemm.ts';
import { heapKernels } from './heap-module.ts';
import { gemmFits, heapMatMul } from './pointwise-gemm.ts';

/**
 * Spreads [N, Ho, Wo, C] onto a grid s times finer: value (y, x) goes to (y*sh, x*sw), zeros
 * elsewhere; the result is [N, Ho*sh, Wo*sw, C]. Done as reshape + pad + reshape, all native.
 */
function spread(backend: WasmBackendLike, t: TensorInfo, sh: number, sw: number): TensorInfo {
  const [n, ho, wo, c] = t.shape;
  const six = reshape(backend, t, [n, ho, 1, wo, 1, c]);
  const padded = call(backend, 'PadV2', { x: six }, {
    paddings: [[0, 0], [0, 0], [0, sh - 1], [0, 0], [0, sw - 1], [0, 0]],
    constantValue: 0,
  });
  free(backend, six);
  const out = reshape(backend, padded, [n, ho * sh, wo * sw, c]);
  free(backend, padded);
  return out;
}

/** Crops or zero-extends [N, H', W', C] at the bottom/right to exactly [N, H, W, C]. */
function fitTo(backend: WasmBackendLike, t: TensorInfo, h: number, w: number): TensorInfo {
  const [n, th, tw, c] = t.shape;
  if (th === h && tw === w) return t;
  let cur = t;
  if (th > h || tw > w) {
    const cropped = call(backend, 'Slice', { x: cur }, { begin: [0, 0, 0, 0], size: [n, Math.min(th, h), Math.min(tw, w), c] });
    free(backend, cur);
    cur = cropped;
  }
  if (cur.shape[1] < h || cur.shape[2] < w) {
    const grown = call(backend, 'PadV2', { x: cur }, {
      paddings: [[0, 0], [0, h - cur.shape[1]], [0, w - cur.shape[2]], [0, 0]],
      constantValue: 0,
    });
    free(backend, cur);
    cur = grown;
  }
  return cur;
}

function pointwise(backend: WasmBackendLike, dy: TensorInfo, filter: TensorInfo, g: ConvGeometry): TensorInfo {
  const w2 = reshape(backend, filter, [g.cin, g.cout]);
  const wt = transpose2d(backend, w2); // [Cout, Cin]
  const m = g.n * g.ho * g.wo;
  const dy2 = reshape(backend, dy, [m, g.cout]);
  const k = heapKernels(backend);
  const dx2 = k && gemmFits(g.cout, g.cin) ? heapMatMul(backend, k, dy2, wt, m, g.cout, g.cin, [m, g.cin]) : matMul2d(backend, dy2, wt);
  free(backend, w2, wt, dy2);
  const dx = reshape(backend, dx2, [g.n, g.ho, g.wo, g.cin]);
  free(backend, dx2);
  if (g.sh === 1 && g.sw === 1) return fitTo(backend, dx, g.h, g.w);
  const spreadOut = spread(backend, dx, g.sh, g.sw);
  free(backend, dx);
  return fitTo(backend, spreadOut, g.h, g.w);
}

/** The filter with in/out channels swapped per tap: [kh, kw, Cin, Cout] -> [kh*kw, Cout, Cin] (one batched transpose). */
function swapChannels(backend: WasmBackendLike, filter: TensorInfo, g: ConvGeometry): TensorInfo {
  const byTap = reshape(backend, filter, [g.kh * g.kw, g.cin, g.cout]);
  const swapped = swapLastTwo(backend, byTap);
  free(backend, byTap);
  return swapped;
}

/**
 * Which k x k path to take: 'auto' picks by size (see GEMM_PATH_RATIO). Tests force each path
 * on every geometry; nothing else should change it.
 */
export const inputGradPath: { mode: 'auto' | 'gemm' | 'phases' } = { mode: 'auto' };

function general(backend: WasmBackendLike, dy: TensorInfo, filter: TensorInfo, g: ConvGeometry): TensorInfo {
  const gemm = inputGradPath.mode === 'auto' ? g.n * g.ho * g.wo < GEMM_PATH_RATIO * g.cout : inputGradPath.mode === 'gemm';
  if (gemm) return inputGradByGemm(backend, dy, filter, g);
  const swapped = swapChannels(backend, filter, g);
  const dx = inputGradByPhases(backend, dy, swapped, g);
  free(backend, swapped);
  return dx;
}

export function conv2DBackpropInputWasm(args: { inputs: { dy: TensorInfo; filter: TensorInfo }; backend: WasmBackendLike; attrs: NamedAttrMap }): TensorInfo {
  const { dy, filter } = args.inputs;
  const { strides, pad, dataFormat, dimRoundingMode, inputShape } = args.attrs as unknown as {
    strides: number | [number, number]; pad: unknown; dataFormat?: string; dimRoundingMode?: unknown;
    inputShape: [number, number, number, number];
  };
  const g = convGeometry('Conv2DBackpropInput', inputShape, filter.shape, strides, pad, dataFormat, 1, dimRoundingMode);
  const pointwiseCase = g.kh === 1 && g.kw === 1 && g.top + g.bottom + g.left + g.right === 0;
  return pointwiseCase ? pointwise(args.backend, dy, filter, g) : general(args.backend, dy, filter, g);
}

export const conv2DBackpropInputConfig: KernelConfig = {
  kernelName: 'Conv2DBackpropInput',
  backendName: 'wasm',
  kernelFunc: conv2DBackpropInputWasm as unknown as KernelFunc,
};
