// The input gradient of a k x k convolution as one matrix product plus a scatter-add (col2im),
// for layers whose weights are large next to their activations (ResNet's deep stages).
//
// Why: the phase path (./conv-transpose-phases.ts) runs the native Conv2D with a filter made for
// this call, and tfjs-wasm then builds and packs a new XNNPACK operator, a pass over all the
// weights that the forward conv (whose filter is a long-lived variable) does once and caches.
// When the layer has few output pixels (M = N*Ho*Wo) and many weights, that packing costs as much
// as the arithmetic (measured: resnet50 at 128 px, batch 8, layer4 3x3 512: 2.2-2.9x the forward
// time). Here the weights are the LEFT operand, which the native matMul never repacks:
//   dcol^T [kh*kw*Cin, M] = W [kh*kw*Cin, Cout] (HWIO as it is) @ dy^T [Cout, M]
// and every (tap, channel) row is added back onto the input pixels that tap read (col2im).
import type { TensorInfo } from '@tensorflow/tfjs-core';
import { free, matMul2d, reshape, transpose2d, type WasmBackendLike } from './compose.ts';
import type { ConvGeometry } from '../conv-geometry.ts';

/**
 * Use the product + scatter path when M < GEMM_PATH_RATIO * Cout. From the costs: packing ~ the
 * weights, once per call; the scatter ~ M*kh*kw*Cin JS adds; the product ~ M*kh*kw*Cin*Cout.
 * Packing loses to the scatter when M is below roughly ten times Cout (measured crossover).
 */
export const GEMM_PATH_RATIO = 10;

export function inputGradByGemm(backend: WasmBackendLike, dy: TensorInfo, filter: TensorInfo, g: ConvGeometry): TensorInfo {
  const m = g.n * g.ho * g.wo;
  const taps = g.kh * g.kw;
  const w2 = reshape(backend, filter, [taps * g.cin, g.cout]);
  const dy2 = reshape(backend, dy, [m, g.cout]);
  const dyt = transpose2d(backend, dy2); // [Cout, M]
  const dcolT = matMul2d(backend, w2, dyt); // [taps*Cin, M]
  free(backend, w2, dy2, dyt);
  const dx = backend.makeOutput([g.n, g.h, g.w, g.cin], 'float32');
  const dst = backend.typedArrayFromHeap(dx) as Float32Array;
  const src = backend.typedArrayFromHeap(dcolT) as Float32Array;
  dst.fill(0);
  for (let i = 0; i < g.kh; i++) {
    for (let j = 0; j < g.kw; j++) {
      const rowBase = (i * g.kw + j) * g.cin * m;
      for (let b = 0; b < g.n; b++) {
        for (let oy = 0; oy < g.ho; oy++) {
          const y = oy * g.sh + i - g.top;
          if (y < 0 || y >= g.h) continue;
          for (let ox = 0; ox < g.wo; ox++) {
            const x = ox * g.sw + j - g.left;
            if (x < 0 || x >= g.w) continue;
            const mIdx = (b * g.ho + oy) * g.wo + ox;
            const base = ((b * g.h + y) * g.w + x) * g.cin;
            for (let ci = 0, s = rowBase + mIdx; ci < g.cin; ci++, s += m) dst[base + ci] += src[s];
          }
        }
      }
    }
  }
  free(backend, dcolT);
  return dx;
}
