// Products with a small right operand through our SIMD GEMM on the heap (./gemm-simd.ts):
// the 1x1 convolutions of ResNet's early stages, forward (x @ W) and input gradient (dy @ W^T).
//
// Why: XNNPACK's convolution and matMul run these shapes at 17-30 GFLOP/s here, ours at 34-43
// (one core; M x Cin x Cout = 8192 x 64 x 256: 35.6 vs 21.9; 25088 x 16 x 64: 38.9 vs 16.8;
// 2048 x 512 x 128: 36.2 vs 29.9), with the same bits on every shape measured (both sum over k
// in order, multiply then add). With weights past 64K floats (256 KB, most of L2 with the rows
// of A beside it) XNNPACK's packed panels win (256 x 512 x 2048: 21.5 vs 31.4), so those stay
// native. docs/train-step-speed.md has the table.
import type { TensorInfo } from '@tensorflow/tfjs-core';
import type { HeapKernels } from './heap-module.ts';
import type { WasmBackendLike } from './compose.ts';

/** Right operands up to this many floats take our GEMM. */
export const GEMM_MAX_WEIGHTS = 65536;
/** Rows of the left operand per chunk (measured: 32-256 within 3 % on the shapes above). */
const ROW_CHUNK = 64;

/** Whether a [k, n] right operand takes our GEMM (n % 8 == 0: the kernel's register block). */
export function gemmFits(k: number, n: number): boolean {
  return n % 8 === 0 && k * n <= GEMM_MAX_WEIGHTS;
}

/** a [m, k] @ b [k, n] into a new tensor of `outShape` (m*n elements); the caller checked gemmFits. */
export function heapMatMul(backend: WasmBackendLike, k: HeapKernels, a: TensorInfo, b: TensorInfo, m: number, kk: number, n: number, outShape: number[]): TensorInfo {
  const out = backend.makeOutput(outShape, 'float32');
  // Views after the allocation (growing the heap moves nothing, but replaces the buffer views see).
  const av = backend.typedArrayFromHeap(a), bv = backend.typedArrayFromHeap(b), ov = backend.typedArrayFromHeap(out);
  k.gemm(av.byteOffset, bv.byteOffset, ov.byteOffset, m, kk, n, ROW_CHUNK);
  return out;
}
