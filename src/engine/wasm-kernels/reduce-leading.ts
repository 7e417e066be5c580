// Sum and Mean for the wasm backend when they reduce every axis but the last: BatchNorm's
// per-channel statistics and its backward sums over N, H, W of an NHWC tensor (four such
// reductions per BN layer and training step).
//
// tfjs-wasm reduces only innermost axes, so for these it first transposes the whole activation
// to [C, N*H*W] (a full strided copy), then reduces. One pass that adds each row of the
// [N*H*W, C] matrix into C running sums reads the data once. The sums are kept in float64
// (more accurate than the float32 sums of either backend; the tests allow for both).
// Every other reduction goes to tfjs-wasm's own kernel.
import { util, type KernelConfig, type KernelFunc, type NamedAttrMap, type TensorInfo } from '@tensorflow/tfjs-core';
import { call, type WasmBackendLike } from './compose.ts';
// Eight columns at a time in locals walking down the rows: 2-3x faster in V8 than adding each
// row into an accumulator array (measured); shared with the fused BatchNorm kernels.
import { columnSums } from '../batch-norm/math.ts';

/** True when `axis` (any form tfjs accepts) names exactly the axes 0 .. rank-2. */
function isAllButLast(axis: unknown, rank: number): boolean {
  if (rank < 2) return false;
  const axes = util.parseAxisParam(axis as number | number[], new Array<number>(rank).fill(1));
  if (axes.length !== rank - 1) return false;
  const seen = new Set(axes);
  for (let a = 0; a < rank - 1; a++) if (!seen.has(a)) return false;
  return true;
}

function reduceLeading(kernelName: 'Sum' | 'Mean') {
  return (args: { inputs: { x: TensorInfo }; backend: WasmBackendLike; attrs: NamedAttrMap }): TensorInfo => {
    const { backend, attrs } = args;
    const { x } = args.inputs;
    if (x.dtype !== 'float32' || !isAllButLast(attrs.axis, x.shape.length)) {
      return call(backend, kernelName, args.inputs, attrs as Record<string, unknown>);
    }
    const c = x.shape[x.shape.length - 1];
    const rows = util.sizeFromShape(x.shape) / c;
    const out = new Float64Array(c);
    columnSums(backend.typedArrayFromHeap(x) as Float32Array, rows, c, out);
    const shape = attrs.keepDims === true ? [...new Array<number>(x.shape.length - 1).fill(1), c] : [c];
    const result = backend.makeOutput(shape, 'float32');
    const dst = backend.typedArrayFromHeap(result) as Float32Array;
    const scale = kernelName === 'Mean' && rows > 0 ? 1 / rows : 1;
    for (let k = 0; k < c; k++) dst[k] = out[k] * scale;
    return result;
  };
}

export const sumConfig: KernelConfig = { kernelName: 'Sum', backendName: 'wasm', kernelFunc: reduceLeading('Sum') as unknown as KernelFunc };
export const meanConfig: KernelConfig = { kernelName: 'Mean', backendName: 'wasm', kernelFunc: reduceLeading('Mean') as unknown as KernelFunc };
