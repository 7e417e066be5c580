// MaxPoolGrad for the wasm backend: routes each output gradient to the input cell that won.
//
// Why: tfjs-wasm's own kernel took ~63 ms for the one max-pool of a resnet50 step at 128 px,
// batch 8 (8 x 64 x 64 x 64 input), about as long as a 3x3 convolution's gradient there. The
// kernel is given the forward output y, so the winner of a window is simply the first cell (in
// row-major window order) whose value equals y: the same cell as "first strict maximum", which
// is tfjs-cpu's rule, so ties (common after ReLU: many zeros) go to the same place. Cells
// outside the input (padding) never win, as in the forward kernel. NaN windows route nothing.
import { backend_util, type KernelConfig, type KernelFunc, type NamedAttrMap, type TensorInfo } from '@tensorflow/tfjs-core';
import { call, type WasmBackendLike } from './compose.ts';
import { heapKernels } from './heap-module.ts';

export function maxPoolGradWasm(args: { inputs: { dy: TensorInfo; input: TensorInfo; output: TensorInfo }; backend: WasmBackendLike; attrs: NamedAttrMap }): TensorInfo {
  const { backend, attrs } = args;
  const { dy, input, output } = args.inputs;
  const { filterSize, strides, pad, dimRoundingMode } = attrs as unknown as {
    filterSize: number | [number, number]; strides: number | [number, number]; pad: 'valid' | 'same' | number; dimRoundingMode?: 'floor' | 'round' | 'ceil';
  };
  if (input.dtype !== 'float32' || output === undefined) {
    return call(backend, 'MaxPoolGrad', args.inputs as unknown as Record<string, TensorInfo>, attrs as Record<string, unknown>);
  }
  const info = backend_util.computePool2DInfo(input.shape as [number, number, number, number], filterSize, strides, 1, pad, dimRoundingMode);
  const { batchSize: n, inHeight: h, inWidth: w, inChannels: c, outHeight: ho, outWidth: wo } = info;
  const { strideHeight: sh, strideWidth: sw, filterHeight: kh, filterWidth: kw } = info;
  const top = info.padInfo.top, left = info.padInfo.left;
  const out = backend.makeOutput(input.shape, 'float32');
  // Views after the allocation (it may grow the heap and detach earlier views).
  const x = backend.typedArrayFromHeap(input) as Float32Array;
  const y = backend.typedArrayFromHeap(output) as Float32Array;
  const g = backend.typedArrayFromHeap(dy) as Float32Array;
  const dx = backend.typedArrayFromHeap(out) as Float32Array;
  dx.fill(0);
  const k = heapKernels(backend);
  if (k && c % 4 === 0) {
    // the same routing, four channels at a time without branches (./max-pool-grad-simd.ts)
    k.maxPoolGrad(x.byteOffset, y.byteOffset, g.byteOffset, dx.byteOffset, n, h, w, c, ho, wo, sh, sw, kh, kw, top, left);
    return out;
  }
  for (let b = 0; b < n; b++) {
    for (let oy = 0; oy < ho; oy++) {
      const y0 = Math.max(0, oy * sh - top);
      const y1 = Math.min(h, oy * sh - top + kh);
      for (let ox = 0; ox < wo; ox++) {
        const x0 = Math.max(0, ox * sw - left);
        const x1 = Math.min(w, ox * sw - left + kw);
        const o = ((b * ho + oy) * wo + ox) * c;
        for (let ch = 0; ch < c; ch++) {
          const best = y[o + ch];
          search: for (let iy = y0; iy < y1; iy++) {
            for (let ix = x0, p = ((b * h + iy) * w + x0) * c + ch; ix < x1; ix++, p += c) {
              if (x[p] === best) {
                dx[p] += g[o + ch];
                break search;
              }
            }
          }
        }
      }
    }
  }
  return out;
}

export const maxPoolGradConfig: KernelConfig = {
  kernelName: 'MaxPoolGrad',
  backendName: 'wasm',
  kernelFunc: maxPoolGradWasm as unknown as KernelFunc,
};
