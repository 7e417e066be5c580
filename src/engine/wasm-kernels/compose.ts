// Building wasm kernels out of the wasm backend's own (fast, native) kernels.
//
// A kernel function receives TensorInfos and the backend, not Tensors: it must not call tfjs ops
// (those go through the engine, its tape and its memory accounting). So our kernels call other
// kernels' functions directly, exactly as tfjs's backends do internally, and free every
// intermediate they make. `Kernels` captures the ORIGINAL wasm kernel functions when our kernels
// are registered, so a kernel we replace (BatchMatMul) can still reach the native one.
import * as tf from '@tensorflow/tfjs-core';
import type { KernelBackend, NamedAttrMap, NamedTensorInfoMap, TensorInfo } from '@tensorflow/tfjs-core';
import { heapKernels } from './heap-module.ts';

/** The tiny part of BackendWasm's surface we use (its class is not exported by the package). */
export interface WasmBackendLike extends KernelBackend {
  makeOutput(shape: number[], dtype: tf.DataType, memoryOffset?: number): TensorInfo;
  typedArrayFromHeap(t: TensorInfo): Float32Array | Int32Array | Uint8Array;
  disposeData(dataId: object, force?: boolean): boolean;
}

type KernelFn = (args: { inputs: NamedTensorInfoMap; backend: KernelBackend; attrs: NamedAttrMap }) => TensorInfo | TensorInfo[];

const originals = new Map<string, KernelFn>();

/** Remembers the wasm backend's own implementation of a kernel (call before replacing it). */
export function captureOriginal(kernelName: string): void {
  if (originals.has(kernelName)) return;
  const config = tf.getKernel(kernelName, 'wasm');
  if (config === undefined) throw new Error(`tfjs-backend-wasm has no '${kernelName}' kernel to build on`);
  originals.set(kernelName, config.kernelFunc as unknown as KernelFn);
}

/** Runs the wasm backend's own kernel `name`; the caller owns (and must free) the result. */
export function call(
  backend: WasmBackendLike,
  name: string,
  inputs: NamedTensorInfoMap | TensorInfo[],
  attrs: Record<string, unknown> = {},
): TensorInfo {
  let fn = originals.get(name);
  if (fn === undefined) {
    captureOriginal(name);
    fn = originals.get(name) as KernelFn;
  }
  const out = fn({ inputs: inputs as NamedTensorInfoMap, backend, attrs: attrs as NamedAttrMap });
  return Array.isArray(out) ? out[0] : out;
}

/** Frees intermediates (reshape views only drop a reference). */
export function free(backend: WasmBackendLike, ...infos: TensorInfo[]): void {
  for (const t of infos) backend.disposeData(t.dataId);
}

/** A view with another shape (no copy); free it like any intermediate. */
export function reshape(backend: WasmBackendLike, x: TensorInfo, shape: number[]): TensorInfo {
  return call(backend, 'Reshape', { x }, { shape });
}

/** Plain a @ b of 2-D operands through the native fast path (never with transpose flags). */
export function matMul2d(backend: WasmBackendLike, a: TensorInfo, b: TensorInfo): TensorInfo {
  const a3 = reshape(backend, a, [1, ...a.shape]);
  const b3 = reshape(backend, b, [1, ...b.shape]);
  const out3 = call(backend, 'BatchMatMul', { a: a3, b: b3 }, { transposeA: false, transposeB: false });
  free(backend, a3, b3);
  const out = reshape(backend, out3, [a.shape[0], b.shape[1]]);
  free(backend, out3);
  return out;
}

/** The transpose of a 2-D matrix, materialised. */
export function transpose2d(backend: WasmBackendLike, x: TensorInfo): TensorInfo {
  return swapLastTwo(backend, x);
}

// Side of the square tiles the transpose copies: 16 x 16 float32 = 4 cache lines per tile row
// read and 16 lines written, all in L1. Measured here (8192 x 64, 2048 x 128, 8192 x 256,
// 2048 x 512) 1.4-2.2x faster than tfjs-wasm's native Transpose, which walks the output with
// a stride of one row per element; tiles of 8, 32 and 64 were the same or slower.
const TILE = 16;

/** dst[j, i] = src[i, j] for one rows x cols matrix at the given offsets, in TILE x TILE tiles. */
export function transposeInto(src: Float32Array, srcOffset: number, rows: number, cols: number, dst: Float32Array, dstOffset: number): void {
  for (let i0 = 0; i0 < rows; i0 += TILE) {
    const i1 = Math.min(rows, i0 + TILE);
    for (let j0 = 0; j0 < cols; j0 += TILE) {
      const j1 = Math.min(cols, j0 + TILE);
      for (let i = i0; i < i1; i++) {
        let s = srcOffset + i * cols + j0;
        let d = dstOffset + j0 * rows + i;
        for (let j = j0; j < j1; j++, s++, d += rows) dst[d] = src[s];
      }
    }
  }
}

/**
 * A float32 tensor with its last two axes swapped, materialised (batched 2-D transposes).
 * Written here rather than calling tfjs-wasm's Transpose: the conv gradients transpose ~300 MB
 * per resnet50 micro-batch. The SIMD kernel on the heap (./transpose-simd.ts) runs where it
 * can; the tiled JavaScript copy, about twice as fast as tfjs-wasm's Transpose, otherwise.
 */
export function swapLastTwo(backend: WasmBackendLike, x: TensorInfo): TensorInfo {
  const rank = x.shape.length;
  if (rank < 2) throw new Error(`swapLastTwo: need rank >= 2, got shape [${x.shape}]`);
  if (x.dtype !== 'float32') {
    const perm = [...Array(rank).keys()];
    perm[rank - 2] = rank - 1;
    perm[rank - 1] = rank - 2;
    return call(backend, 'Transpose', { x }, { perm });
  }
  const rows = x.shape[rank - 2];
  const cols = x.shape[rank - 1];
  const outShape = [...x.shape.slice(0, rank - 2), cols, rows];
  const out = backend.makeOutput(outShape, 'float32');
  // Views after makeOutput: growing the heap there detaches views taken before.
  const src = backend.typedArrayFromHeap(x) as Float32Array;
  const dst = backend.typedArrayFromHeap(out) as Float32Array;
  const plane = rows * cols;
  const k = heapKernels(backend);
  for (let off = 0; off < src.length; off += plane) {
    if (k) k.transpose(src.byteOffset + 4 * off, 4 * cols, dst.byteOffset + 4 * off, 4 * rows, rows, cols);
    else transposeInto(src, off, rows, cols, dst, off);
  }
  return out;
}

/** Number of elements of a shape. */
export function sizeOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}
