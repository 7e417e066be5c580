// WebAssembly SIMD kernels that work in place on tfjs-wasm's own heap.
//
// Why: the JavaScript loops of our wasm kernels (transposes inside the conv gradients, the fused
// BatchNorm passes) run at ~1.5-3 ns an element here, while a SIMD loop compiled from wasm runs
// at the memory system's pace (~0.3 ns). tfjs-backend-wasm does not export such kernels, and
// copying tensors into a module of our own would cost the pass we want to save. So our module
// imports tfjs-wasm's WebAssembly.Memory (the simd build exports it as `asm.memory`): a tensor's
// heap view gives the address (its byteOffset), and the kernels read and write the tensors
// where they are. The memory object, not its buffer, is shared, so growth of the heap is seen.
//
// The kernels are assembled in TypeScript (src/data/transforms/wasm-asm.ts), each in the file of
// the work it does: ./transpose-simd.ts, ./grad-weight-simd.ts, ./gemm-simd.ts, ./im2row.ts,
// ./max-pool-grad-simd.ts, ../batch-norm/simd.ts. Null, and so the JavaScript path, where SIMD
// is missing, RSB_NO_SIMD=1, the heap is not reachable (another build: the threaded one shares
// its memory, which this import does not declare), or setHeapKernels(false).
import { instantiate, moduleBytes } from '../../data/transforms/wasm-asm.ts';
import { transposeKernel } from './transpose-simd.ts';
import { gradWeightKernel } from './grad-weight-simd.ts';
import { gemmKernel } from './gemm-simd.ts';
import { im2rowKernel } from './im2row.ts';
import { maxPoolGradKernel } from './max-pool-grad-simd.ts';
import { bnAffineKernel, bnGradInputKernel, bnSumsKernel } from '../batch-norm/simd.ts';

export interface HeapKernels {
  memory: WebAssembly.Memory;
  /** dst[j, i] = src[i, j] for a rows x cols block; addresses and row strides in bytes */
  transpose(src: number, srcStride: number, dst: number, dstStride: number, rows: number, cols: number): void;
  /** out[Cin, Cout] += x^T @ dy for x [m, Cin], dy [m, Cout], positions in chunks of kc (Cin % 4 == 0, Cout % 8 == 0) */
  gradWeight(x: number, dy: number, m: number, cin: number, cout: number, out: number, kc: number): void;
  /** col[m, :] = the input window of output position m as a row of rowFloats (zero-padded); src is the padded NHWC input */
  im2row(src: number, dst: number, n: number, ho: number, wo: number, hp: number, wp: number, cin: number, kh: number, kw: number, sh: number, sw: number, rowFloats: number): void;
  /** dx (zeroed) += each dy routed to its window's first cell equal to y; NHWC, c % 4 == 0 */
  maxPoolGrad(x: number, y: number, dy: number, dx: number, n: number, h: number, w: number, c: number, ho: number, wo: number,
    sh: number, sw: number, kh: number, kw: number, top: number, left: number): void;
  /** c[m, n] = a[m, k] @ b[k, n], rows of a in chunks of mc (n % 8 == 0) */
  gemm(a: number, b: number, c: number, m: number, k: number, n: number, mc: number): void;
  /** per channel of [rows, c]: sum of x into sum, sum of x^2 into sq (float64, added to what is there) */
  bnSumsSq(x: number, unused: number, rows: number, c: number, sum: number, sq: number): void;
  /** per channel: sum of dy into sdy, sum of dy*x into sdyx (float64, added to what is there) */
  bnSumsCross(dy: number, x: number, rows: number, c: number, sdy: number, sdyx: number): void;
  /** y = x*scale + shift per channel (float64 coefficients) */
  bnAffine(x: number, y: number, rows: number, c: number, scale: number, shift: number): void;
  /** dx = a*dy + b*x + d per channel (float64 coefficients) */
  bnGradInput(dy: number, x: number, dx: number, rows: number, c: number, a: number, b: number, d: number): void;
}

const byMemory = new WeakMap<WebAssembly.Memory, HeapKernels | null>();
let enabled = true;

/** tfjs-wasm's memory, from the backend object (null for another backend or build). */
function heapMemory(backend: unknown): WebAssembly.Memory | null {
  const memory = (backend as { wasm?: { asm?: { memory?: unknown } } })?.wasm?.asm?.memory;
  return memory instanceof WebAssembly.Memory ? memory : null;
}

/** The kernels bound to this wasm backend's heap, or null (run the JavaScript). */
export function heapKernels(backend: unknown): HeapKernels | null {
  if (!enabled) return null;
  const memory = heapMemory(backend);
  if (memory === null) return null;
  let k = byMemory.get(memory);
  if (k === undefined) {
    const bytes = moduleBytes([transposeKernel(), gradWeightKernel(), gemmKernel(), im2rowKernel(), maxPoolGradKernel(), bnSumsKernel('bnSumsSq', 'sq'), bnSumsKernel('bnSumsCross', 'cross'), bnAffineKernel(), bnGradInputKernel()], { importMemory: true });
    const e = instantiate(bytes, memory);
    k = e && ({ ...e, memory } as unknown as HeapKernels);
    byMemory.set(memory, k);
  }
  return k;
}

/** Switches the kernels off (the JavaScript loops run) or back on: for tests and A/B benchmarks. */
export function setHeapKernels(on: boolean): void {
  enabled = on;
}

/** Whether a typed array lies in the kernels' memory (then its byteOffset is its address). */
export function onHeap(k: HeapKernels, a: ArrayBufferView): boolean {
  return a.buffer === k.memory.buffer;
}
