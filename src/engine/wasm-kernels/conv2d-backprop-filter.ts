// Conv2DBackpropFilter for the wasm backend (tfjs-backend-wasm 4.x has none, so tf.grads
// through any convolution fails there with "kernel not registered").
//
// The filter gradient is a sum over output positions of (input patch) x (output gradient):
//   dW[i, j, ci, co] = sum over (n, y, x) of xpad[n, y*sh + i, x*sw + j, ci] * dy[n, y, x, co]
// For each filter tap (i, j) that is one matrix product over the M = N*Ho*Wo output positions:
//   dW[i, j]^T = dy^T (Cout x M) @ tap_ij (M x Cin),  tap_ij = the strided window of xpad.
// Doing it tap by tap (instead of a full im2col matrix) keeps the extra memory at one window
// (M x Cin) rather than kh*kw of them, and dy^T is transposed once and shared by all taps.
// Narrow inputs (the stem's 3 channels) group taps side by side so the product is wide enough.
//
// Why the explicit transposes: the wasm matMul is fast (XNNPACK, ~20 GFLOP/s on one core here)
// only without transpose flags; with transposeA it falls back to a naive loop (~30x slower
// measured). A native transpose of dy costs about as much as one copy, so we pay it once.
//
// 1x1 convolutions (3/4 of ResNet-50's convolutions) need no window at stride 1: the input IS
// the matrix. We then transpose whichever of x and dy is narrower.
import type { KernelConfig, KernelFunc, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs-core';
import { call, free, matMul2d, reshape, transpose2d, type WasmBackendLike } from './compose.ts';
import { convGeometry, type ConvGeometry } from '../conv-geometry.ts';

/** The (strided) input window that filter tap (i, j) multiplies, as an M x Cin matrix. */
function tapWindow(backend: WasmBackendLike, xpad: TensorInfo, g: ConvGeometry, i: number, j: number): TensorInfo {
  const window = call(backend, 'StridedSlice', { x: xpad }, {
    begin: [0, i, j, 0],
    end: [g.n, i + (g.ho - 1) * g.sh + 1, j + (g.wo - 1) * g.sw + 1, g.cin],
    strides: [1, g.sh, g.sw, 1],
    beginMask: 0, endMask: 0, ellipsisMask: 0, newAxisMask: 0, shrinkAxisMask: 0,
  });
  const m = reshape(backend, window, [g.n * g.ho * g.wo, g.cin]);
  free(backend, window);
  return m;
}

/**
 * The windows of `count` consecutive taps side by side, [M, count*Cin] (an im2col restricted to
 * those taps), written straight into the heap: for the narrow inputs this serves, one JS pass
 * beats a native slice per tap plus a concatenation (tfjs-wasm concatenates in JS, row by row).
 */
function im2colTaps(backend: WasmBackendLike, xpad: TensorInfo, g: ConvGeometry, t0: number, count: number): TensorInfo {
  const [, hp, wp] = xpad.shape;
  const { n, ho, wo, cin, kw, sh, sw } = g;
  const width = count * cin;
  const out = backend.makeOutput([n * ho * wo, width], 'float32');
  const src = backend.typedArrayFromHeap(xpad) as Float32Array;
  const dst = backend.typedArrayFromHeap(out) as Float32Array;
  let row = 0;
  for (let b = 0; b < n; b++) {
    for (let oy = 0; oy < ho; oy++) {
      for (let ox = 0; ox < wo; ox++, row++) {
        let d = row * width;
        for (let t = t0; t < t0 + count; t++) {
          const i = Math.floor(t / kw), j = t % kw;
          let s = ((b * hp + oy * sh + i) * wp + ox * sw + j) * cin;
          for (let c = 0; c < cin; c++) dst[d++] = src[s++];
        }
      }
    }
  }
  return out;
}

/** The gradient of a 1x1 convolution's filter: one matrix product. */
function pointwise(backend: WasmBackendLike, x: TensorInfo, dy2: TensorInfo, g: ConvGeometry): TensorInfo {
  const plain = g.sh === 1 && g.sw === 1 && g.ho === g.h && g.wo === g.w;
  const xm = plain ? reshape(backend, x, [g.n * g.h * g.w, g.cin]) : tapWindow(backend, x, g, 0, 0);
  let out: TensorInfo;
  if (g.cin <= g.cout) {
    // x^T @ dy is already [Cin, Cout] = HWIO for a 1x1 filter.
    const xt = transpose2d(backend, xm);
    out = matMul2d(backend, xt, dy2);
    free(backend, xt);
  } else {
    const dyt = transpose2d(backend, dy2);
    const wt = matMul2d(backend, dyt, xm); // [Cout, Cin]
    out = transpose2d(backend, wt);
    free(backend, dyt, wt);
  }
  free(backend, xm);
  const shaped = reshape(backend, out, [1, 1, g.cin, g.cout]);
  free(backend, out);
  return shaped;
}

/**
 * How many filter taps to multiply at once. One tap gives a product of width Cin, which for the
 * stem (Cin = 3) is a [64 x M] @ [M x 3] product that no GEMM runs well; so narrow inputs get
 * several taps' windows side by side (an im2col of a few taps), about TAP_GROUP_WIDTH columns wide.
 */
const TAP_GROUP_WIDTH = 192;

/** The general case, a group of taps at a time. */
function byTaps(backend: WasmBackendLike, x: TensorInfo, dy2: TensorInfo, g: ConvGeometry): TensorInfo {
  const padded = g.top + g.bottom + g.left + g.right > 0;
  const xpad = padded
    ? call(backend, 'PadV2', { x }, { paddings: [[0, 0], [g.top, g.bottom], [g.left, g.right], [0, 0]], constantValue: 0 })
    : x;
  const dyt = transpose2d(backend, dy2); // [Cout, M], shared by every tap
  const taps = g.kh * g.kw;
  const perGroup = Math.max(1, Math.min(taps, Math.floor(TAP_GROUP_WIDTH / g.cin)));
  const width = taps * g.cin;
  // dW^T as [Cout, kh*kw*Cin]: each group's product fills a band of columns.
  const wt = backend.makeOutput([g.cout, width], 'float32');
  for (let t0 = 0; t0 < taps; t0 += perGroup) {
    const count = Math.min(perGroup, taps - t0);
    const cols = count === 1
      ? tapWindow(backend, xpad, g, Math.floor(t0 / g.kw), t0 % g.kw)
      : im2colTaps(backend, xpad, g, t0, count); // [M, count*Cin]
    const part = matMul2d(backend, dyt, cols); // [Cout, count*Cin]
    // Heap views are fetched right before use: any allocation may grow (and detach) the heap.
    const dst = backend.typedArrayFromHeap(wt) as Float32Array;
    const src = backend.typedArrayFromHeap(part) as Float32Array;
    const band = count * g.cin;
    const offset = t0 * g.cin;
    for (let r = 0; r < g.cout; r++) dst.set(src.subarray(r * band, (r + 1) * band), r * width + offset);
    free(backend, part, cols);
  }
  free(backend, dyt);
  if (padded) free(backend, xpad);
  const hwio = transpose2d(backend, wt); // [kh*kw*Cin, Cout] is HWIO
  free(backend, wt);
  const out = reshape(backend, hwio, [g.kh, g.kw, g.cin, g.cout]);
  free(backend, hwio);
  return out;
}

export function conv2DBackpropFilterWasm(args: { inputs: { x: TensorInfo; dy: TensorInfo }; backend: WasmBackendLike; attrs: NamedAttrMap }): TensorInfo {
  const { x, dy } = args.inputs;
  const { strides, pad, dataFormat, dimRoundingMode, filterShape } = args.attrs as unknown as {
    strides: number | [number, number]; pad: unknown; dataFormat?: string; dimRoundingMode?: unknown;
    filterShape: [number, number, number, number];
  };
  const g = convGeometry('Conv2DBackpropFilter', x.shape, filterShape, strides, pad, dataFormat, 1, dimRoundingMode);
  const backend = args.backend;
  const dy2 = reshape(backend, dy, [g.n * g.ho * g.wo, g.cout]);
  const pointwiseCase = g.kh === 1 && g.kw === 1 && g.top + g.bottom + g.left + g.right === 0;
  const out = pointwiseCase ? pointwise(backend, x, dy2, g) : byTaps(backend, x, dy2, g);
  free(backend, dy2);
  return out;
}

export const conv2DBackpropFilterConfig: KernelConfig = {
  kernelName: 'Conv2DBackpropFilter',
  backendName: 'wasm',
  kernelFunc: conv2DBackpropFilterWasm as unknown as KernelFunc,
};
