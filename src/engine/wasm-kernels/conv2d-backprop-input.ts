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
//   - k x k, stride s: the same on dy with s - 1 zeros inserted between its pixels (the forward
//     convolution skipped those positions). This spends s*s times the necessary multiply-adds on
//     those layers (3 of ResNet-50's 53 convolutions); see docs/engine.md.
import type { KernelConfig, KernelFunc, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs-core';
import { call, free, matMul2d, reshape, transpose2d, type WasmBackendLike } from './compose.ts';
import { convGeometry, type ConvGeometry } from '../conv-geometry.ts';

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
  const dy2 = reshape(backend, dy, [g.n * g.ho * g.wo, g.cout]);
  const dx2 = matMul2d(backend, dy2, wt);
  free(backend, w2, wt, dy2);
  const dx = reshape(backend, dx2, [g.n, g.ho, g.wo, g.cin]);
  free(backend, dx2);
  if (g.sh === 1 && g.sw === 1) return fitTo(backend, dx, g.h, g.w);
  const spreadOut = spread(backend, dx, g.sh, g.sw);
  free(backend, dx);
  return fitTo(backend, spreadOut, g.h, g.w);
}

/**
 * The filter rotated by 180 degrees with in/out channels swapped: out[i, j, co, ci] =
 * w[kh-1-i, kw-1-j, ci, co]. A native transpose swaps the channels of every tap; reversing the
 * taps is then a copy of whole [Cout, Cin] blocks in reverse order (tfjs-wasm's Reverse kernel is
 * an element-by-element JS loop, measured ~10x slower than the transpose on a 3x3x512x512 filter).
 */
function rotateFilter(backend: WasmBackendLike, filter: TensorInfo, g: ConvGeometry): TensorInfo {
  const taps = g.kh * g.kw;
  const byTap = reshape(backend, filter, [taps, g.cin, g.cout]);
  const swapped = call(backend, 'Transpose', { x: byTap }, { perm: [0, 2, 1] }); // [taps, Cout, Cin]
  free(backend, byTap);
  const out = backend.makeOutput([g.kh, g.kw, g.cout, g.cin], 'float32');
  const src = backend.typedArrayFromHeap(swapped) as Float32Array;
  const dst = backend.typedArrayFromHeap(out) as Float32Array;
  const block = g.cout * g.cin;
  for (let t = 0; t < taps; t++) dst.set(src.subarray(t * block, (t + 1) * block), (taps - 1 - t) * block);
  free(backend, swapped);
  return out;
}

function general(backend: WasmBackendLike, dy: TensorInfo, filter: TensorInfo, g: ConvGeometry): TensorInfo {
  const rotated = rotateFilter(backend, filter, g);

  // dy on the input's grid (zeros between samples when strided). Rows past the last real sample
  // are zeros, so extra ones act as padding and missing ones are added below.
  // (At stride 1 a same-shape reshape: a new reference to dy, so `grid` can always be freed.)
  let grid = g.sh === 1 && g.sw === 1 ? reshape(backend, dy, dy.shape) : spread(backend, dy, g.sh, g.sw);
  // Padding of the "full" correlation: k - 1 - forward padding before; after, whatever makes
  // the output exactly H x W (negative = crop).
  let padTop = g.kh - 1 - g.top;
  let padLeft = g.kw - 1 - g.left;
  if (padTop < 0 || padLeft < 0) {
    // Forward padding larger than the filter: those dy rows/cols only saw padding. Crop them.
    const cropTop = Math.max(0, -padTop);
    const cropLeft = Math.max(0, -padLeft);
    const cropped = call(backend, 'Slice', { x: grid }, {
      begin: [0, cropTop, cropLeft, 0],
      size: [g.n, grid.shape[1] - cropTop, grid.shape[2] - cropLeft, g.cout],
    });
    free(backend, grid);
    grid = cropped;
    padTop = Math.max(0, padTop);
    padLeft = Math.max(0, padLeft);
  }
  let padBottom = g.h - 1 + g.kh - grid.shape[1] - padTop;
  let padRight = g.w - 1 + g.kw - grid.shape[2] - padLeft;
  if (padBottom < 0 || padRight < 0) {
    const cropped = call(backend, 'Slice', { x: grid }, {
      begin: [0, 0, 0, 0],
      size: [g.n, grid.shape[1] + Math.min(0, padBottom), grid.shape[2] + Math.min(0, padRight), g.cout],
    });
    free(backend, grid);
    grid = cropped;
    padBottom = Math.max(0, padBottom);
    padRight = Math.max(0, padRight);
  }
  const dx = call(backend, 'Conv2D', { x: grid, filter: rotated }, {
    strides: [1, 1],
    pad: [[0, 0], [padTop, padBottom], [padLeft, padRight], [0, 0]],
    dataFormat: 'NHWC',
    dilations: [1, 1],
    dimRoundingMode: undefined,
  });
  free(backend, grid, rotated);
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
