// Conv2DBackpropFilter for the wasm backend (tfjs-backend-wasm 4.x has none, so tf.grads
// through any convolution fails there with "kernel not registered").
//
// The filter gradient is a sum over output positions of (input patch) x (output gradient):
//   dW[i, j, ci, co] = sum over (n, y, x) of xpad[n, y*sh + i, x*sw + j, ci] * dy[n, y, x, co]
// Over the M = N*Ho*Wo output positions that is one matrix product of the input windows
// (an im2col matrix, built already transposed) with dy; see viaColumns for the layout choice.
// Measured per layer against the forward conv: docs/engine.md.
//
// Why the explicit transposes: the wasm matMul is fast (XNNPACK, ~30 GFLOP/s on one core here)
// only without transpose flags; with transposeA it falls back to a naive loop (~30x slower
// measured). A native transpose costs about one copy.
//
// 1x1 convolutions (2/3 of ResNet-50's convolutions) need no window at stride 1: the input IS
// the matrix. We then transpose whichever of x and dy is narrower.
//
// Where the SIMD kernels on the heap run (./heap-module.ts) and the channels fit their register
// block, all of the above gives way to byOuterProducts: the product accumulated straight from x
// (or each tap's window) and dy, with no transpose and no packing (./grad-weight-simd.ts); the
// stem (3 input channels) takes byRows, the same product over im2row rows. The routes above
// remain for Cout % 8 != 0 and where WebAssembly SIMD is missing.
import type { KernelConfig, KernelFunc, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs-core';
import { call, free, matMul2d, reshape, transpose2d, type WasmBackendLike } from './compose.ts';
import { convGeometry, type ConvGeometry } from '../conv-geometry.ts';
import { heapKernels, type HeapKernels } from './heap-module.ts';

/**
 * The (strided) input window that filter tap (i, j) multiplies, as an M x Cin matrix, copied
 * straight from the heap. At stride 1 every (image, output row) is one contiguous run of Wo*Cin
 * floats; at stride s each output pixel is a run of Cin floats. (tfjs-wasm's StridedSlice copies
 * element by element: it cost as much as the products themselves.)
 */
function tapWindow(backend: WasmBackendLike, xpad: TensorInfo, g: ConvGeometry, i: number, j: number): TensorInfo {
  const [, hp, wp] = xpad.shape;
  const { n, ho, wo, cin, sh, sw } = g;
  const out = backend.makeOutput([n * ho * wo, cin], 'float32');
  const src = backend.typedArrayFromHeap(xpad) as Float32Array;
  const dst = backend.typedArrayFromHeap(out) as Float32Array;
  let d = 0;
  for (let b = 0; b < n; b++) {
    for (let oy = 0; oy < ho; oy++) {
      const rowStart = ((b * hp + oy * sh + i) * wp + j) * cin;
      if (sw === 1) {
        dst.set(src.subarray(rowStart, rowStart + wo * cin), d);
        d += wo * cin;
      } else if (cin >= 16) {
        for (let ox = 0; ox < wo; ox++, d += cin) {
          const s0 = rowStart + ox * sw * cin;
          dst.set(src.subarray(s0, s0 + cin), d);
        }
      } else {
        for (let ox = 0; ox < wo; ox++) {
          let s0 = rowStart + ox * sw * cin;
          for (let c = 0; c < cin; c++) dst[d++] = src[s0++];
        }
      }
    }
  }
  return out;
}

/** Output pixels per block of the transposing gather: their Cin-long input runs stay in L1. */
const GATHER_BLOCK = 16;

/**
 * Visits every (tap, image, output row) window of col^T: `inRow` is where its first input pixel
 * starts in the padded input (the next pixel is sw*Cin floats on), and that window's Cin rows of
 * wo values start at col^T offset `dst` (rows m apart). col^T row (tap, ci), column m = the
 * input value tap t reads for output pixel m.
 */
function forEachWindow(xShape: number[], g: ConvGeometry, visit: (inRow: number, dst: number) => void): void {
  const [, hp, wp] = xShape;
  const { n, ho, wo, cin, kh, kw, sh } = g;
  const m = n * ho * wo;
  for (let i = 0; i < kh; i++) {
    for (let j = 0; j < kw; j++) {
      const tapRow = (i * kw + j) * cin * m;
      for (let b = 0; b < n; b++) {
        for (let oy = 0; oy < ho; oy++) visit(((b * hp + oy * sh + i) * wp + j) * cin, tapRow + (b * ho + oy) * wo);
      }
    }
  }
}

/**
 * col^T in one JavaScript pass, blocked by GATHER_BLOCK output pixels of one output row, so
 * reads stay in L1 and writes are GATHER_BLOCK-long contiguous runs. Faster than copy + native
 * transpose per tap for narrow inputs (stem: 35 vs 41 ms), slower for wide ones (64 channels:
 * 48 vs 38 ms).
 */
function gatherTransposed(src: Float32Array, xShape: number[], colT: Float32Array, g: ConvGeometry): void {
  const { n, ho, wo, cin, sw } = g;
  const m = n * ho * wo;
  const step = sw * cin;
  forEachWindow(xShape, g, (inRow, dst) => {
    for (let ox0 = 0; ox0 < wo; ox0 += GATHER_BLOCK) {
      const ox1 = Math.min(wo, ox0 + GATHER_BLOCK);
      for (let ci = 0; ci < cin; ci++) {
        let d = dst + ci * m + ox0;
        let s = inRow + ox0 * step + ci;
        for (let ox = ox0; ox < ox1; ox++, s += step) colT[d++] = src[s];
      }
    }
  });
}

/**
 * col^T through the SIMD transpose kernel: each window, wo pixels of Cin channels, is transposed
 * straight into its Cin rows x wo columns of col^T. No window copy and no second copy into
 * col^T, which the route through tapWindow needs.
 */
function gatherTransposedSimd(k: HeapKernels, src: Float32Array, xShape: number[], colT: Float32Array, g: ConvGeometry): void {
  const m = g.n * g.ho * g.wo;
  forEachWindow(xShape, g, (inRow, dst) => {
    k.transpose(src.byteOffset + 4 * inRow, 4 * g.sw * g.cin, colT.byteOffset + 4 * dst, 4 * m, g.wo, g.cin);
  });
}

/** The gradient of a 1x1 convolution's filter: one matrix product. */
function pointwise(backend: WasmBackendLike, x: TensorInfo, dy2: TensorInfo, g: ConvGeometry): TensorInfo {
  const plain = g.sh === 1 && g.sw === 1 && g.ho === g.h && g.wo === g.w;
  const xm = plain ? reshape(backend, x, [g.n * g.h * g.w, g.cin]) : tapWindow(backend, x, g, 0, 0);
  let out: TensorInfo;
  // Both are M rows long. Transpose the narrower one: a transpose's cost grows faster than its
  // size with the row width (measured, M = 8192: 64 wide 2.3 ms, 256 wide 14 ms), while the
  // product runs at the same rate (~30 GFLOP/s) in either orientation.
  if (g.cin <= g.cout) {
    const xt = transpose2d(backend, xm);
    out = matMul2d(backend, xt, dy2); // x^T @ dy = [Cin, Cout], already HWIO for a 1x1 filter
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

/** Below this many input channels the one-pass JS gather beats copy + native transpose per tap. */
const JS_GATHER_MAX_CHANNELS = 32;

/**
 * The general case: col^T, the input windows of all taps as rows, [kh*kw*Cin, M] (tap-major,
 * then channel), times dy:
 *   dW = col^T (kh*kw*Cin x M) @ dy (M x Cout) = [kh*kw*Cin, Cout], which IS the HWIO layout.
 * col^T is filled per tap by a row copy of the window plus a native transpose, or, for narrow
 * inputs (the stem's 3 channels), by one blocked JS pass (gatherTransposed).
 * Extra memory: col^T, kh*kw times the input (layer1 of resnet50 at 128 px, batch 8: 19 MB).
 */
function viaColumns(backend: WasmBackendLike, xpad: TensorInfo, dy2: TensorInfo, g: ConvGeometry): TensorInfo {
  const m = g.n * g.ho * g.wo;
  const taps = g.kh * g.kw;
  const colT = backend.makeOutput([taps * g.cin, m], 'float32');
  const k = heapKernels(backend);
  if (k) {
    gatherTransposedSimd(k, backend.typedArrayFromHeap(xpad) as Float32Array, xpad.shape, backend.typedArrayFromHeap(colT) as Float32Array, g);
  } else if (g.cin < JS_GATHER_MAX_CHANNELS) {
    // Heap views are fetched after the last allocation before use (allocations may grow the heap).
    gatherTransposed(backend.typedArrayFromHeap(xpad) as Float32Array, xpad.shape, backend.typedArrayFromHeap(colT) as Float32Array, g);
  } else {
    for (let t = 0; t < taps; t++) {
      const window = tapWindow(backend, xpad, g, Math.floor(t / g.kw), t % g.kw); // [M, Cin]
      const windowT = transpose2d(backend, window); // [Cin, M]
      (backend.typedArrayFromHeap(colT) as Float32Array).set(backend.typedArrayFromHeap(windowT) as Float32Array, t * g.cin * m);
      free(backend, window, windowT);
    }
  }
  const dw = matMul2d(backend, colT, dy2); // [kh*kw*Cin, Cout]
  free(backend, colT);
  const out = reshape(backend, dw, [g.kh, g.kw, g.cin, g.cout]);
  free(backend, dw);
  return out;
}

/** The input with the geometry's zero padding applied (a new tensor only when there is any). */
function padInput(backend: WasmBackendLike, x: TensorInfo, g: ConvGeometry): { xpad: TensorInfo; padded: boolean } {
  const padded = g.top + g.bottom + g.left + g.right > 0;
  const xpad = padded
    ? call(backend, 'PadV2', { x }, { paddings: [[0, 0], [g.top, g.bottom], [g.left, g.right], [0, 0]], constantValue: 0 })
    : x;
  return { xpad, padded };
}

/**
 * Positions per chunk of the outer-product kernel (./grad-weight-simd.ts). Measured on the
 * ResNet shapes (M x Cin x Cout from 8192 x 64 x 64 to 128 x 2048 x 512): 48-64 best, 16-32 and
 * 256-512 up to 25 % slower.
 */
const OUTER_PRODUCT_CHUNK = 64;

/**
 * With the SIMD kernels, for Cin % 4 == 0 and Cout % 8 == 0 (every layer but the stem): per tap,
 * dW[tap] = window^T @ dy as a sum of outer products over the positions, read where they lie
 * (the input itself for a plain 1x1 convolution, else the tap's window as a row copy). No
 * transpose, no col^T, no packing of a fresh operand: 926 -> 748 ms per resnet50 @128
 * micro-batch of 8 against the transpose + native matMul route (docs/train-step-speed.md).
 */
function byOuterProducts(backend: WasmBackendLike, k: HeapKernels, x: TensorInfo, dy2: TensorInfo, g: ConvGeometry): TensorInfo {
  const { xpad, padded } = padInput(backend, x, g);
  const plain = g.kh === 1 && g.kw === 1 && g.sh === 1 && g.sw === 1 && !padded && g.ho === g.h && g.wo === g.w;
  const m = g.n * g.ho * g.wo;
  const out = backend.makeOutput([g.kh, g.kw, g.cin, g.cout], 'float32');
  (backend.typedArrayFromHeap(out) as Float32Array).fill(0);
  for (let t = 0; t < g.kh * g.kw; t++) {
    const window = plain ? null : tapWindow(backend, xpad, g, Math.floor(t / g.kw), t % g.kw); // [M, Cin]
    // Heap views after the last allocation (an allocation may grow the heap and move them).
    const xv = backend.typedArrayFromHeap(window ?? xpad) as Float32Array;
    const dyv = backend.typedArrayFromHeap(dy2) as Float32Array;
    const ov = backend.typedArrayFromHeap(out) as Float32Array;
    k.gradWeight(xv.byteOffset, dyv.byteOffset, m, g.cin, g.cout, ov.byteOffset + 4 * t * g.cin * g.cout, OUTER_PRODUCT_CHUNK);
    if (window) free(backend, window);
  }
  if (padded) free(backend, xpad);
  return out;
}

/**
 * With the SIMD kernels, for Cin % 4 != 0 (the stem's 3 channels) and Cout % 8 == 0: the windows
 * as rows (im2row, each kh*kw*Cin long, padded to a multiple of 4 with zeros), then one outer-
 * product accumulation over the positions into [rows, Cout]; its first kh*kw*Cin rows are the
 * HWIO gradient (the zero columns add nothing). Replaces col^T + the native matMul, which packs
 * dy, M rows long, on every call.
 */
function byRows(backend: WasmBackendLike, k: HeapKernels, x: TensorInfo, dy2: TensorInfo, g: ConvGeometry): TensorInfo {
  const { xpad, padded } = padInput(backend, x, g);
  const m = g.n * g.ho * g.wo;
  const taps = g.kh * g.kw * g.cin;
  const rowFloats = (taps + 3) & ~3;
  const col = backend.makeOutput([m, rowFloats], 'float32');
  const acc = backend.makeOutput([rowFloats, g.cout], 'float32');
  const out = backend.makeOutput([g.kh, g.kw, g.cin, g.cout], 'float32');
  // Heap views after the last allocation.
  const [xv, colv, accv, dyv, outv] = [xpad, col, acc, dy2, out].map((t) => backend.typedArrayFromHeap(t) as Float32Array);
  k.im2row(xv.byteOffset, colv.byteOffset, g.n, g.ho, g.wo, xpad.shape[1], xpad.shape[2], g.cin, g.kh, g.kw, g.sh, g.sw, rowFloats);
  accv.fill(0);
  k.gradWeight(colv.byteOffset, dyv.byteOffset, m, rowFloats, g.cout, accv.byteOffset, OUTER_PRODUCT_CHUNK);
  outv.set(accv.subarray(0, taps * g.cout));
  free(backend, col, acc);
  if (padded) free(backend, xpad);
  return out;
}

function byTaps(backend: WasmBackendLike, x: TensorInfo, dy2: TensorInfo, g: ConvGeometry): TensorInfo {
  const { xpad, padded } = padInput(backend, x, g);
  const out = viaColumns(backend, xpad, dy2, g);
  if (padded) free(backend, xpad);
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
  const k = heapKernels(backend);
  const out = k && g.cout % 8 === 0
    ? (g.cin % 4 === 0 ? byOuterProducts(backend, k, x, dy2, g) : byRows(backend, k, x, dy2, g))
    : pointwiseCase ? pointwise(backend, x, dy2, g) : byTaps(backend, x, dy2, g);
  free(backend, dy2);
  return out;
}

export const conv2DBackpropFilterConfig: KernelConfig = {
  kernelName: 'Conv2DBackpropFilter',
  backendName: 'wasm',
  kernelFunc: conv2DBackpropFilterWasm as unknown as KernelFunc,
};
