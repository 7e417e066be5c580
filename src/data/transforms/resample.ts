// Antialiased resize of a crop box, reproducing Pillow's `Image.resize` (Resample.c) for
// 8-bit RGB: a separable two-pass filter (horizontal first) whose support widens by the
// downscale factor, weights normalised per output pixel and quantised to 22-bit fixed
// point, each pass rounding and clipping to uint8. torchvision's resized_crop crops first
// and then resizes, so the filter taps are clamped to the crop's own edges, which is what
// `resizeCrop` does without copying the crop out.
import type { RgbImage } from './image.ts';
import { makeImage } from './image.ts';
import type { CropBox } from './rrc.ts';
import { Arena, simdKernels, type SimdKernels } from './resample-simd.ts';
import { flipHorizontal } from './flip.ts';

export type ResampleFilter = 'bilinear' | 'bicubic';

interface Filter {
  support: number;
  fn: (x: number) => number;
}

const FILTERS: Record<ResampleFilter, Filter> = {
  bilinear: {
    support: 1,
    fn: (x) => {
      if (x < 0) x = -x;
      return x < 1 ? 1 - x : 0;
    },
  },
  // Keys' cubic with a = -0.5, Pillow's choice for resize (its affine warp uses a = -1).
  bicubic: {
    support: 2,
    fn: (x) => {
      const a = -0.5;
      if (x < 0) x = -x;
      if (x < 1) return ((a + 2) * x - (a + 3)) * x * x + 1;
      if (x < 2) return (((x - 5) * x + 8) * x - 4) * a;
      return 0;
    },
  },
};

/** 32 bits minus 8 for the pixel and 2 of headroom for negative lobes: Pillow's PRECISION_BITS. */
const PRECISION_BITS = 22;
const ONE = 1 << PRECISION_BITS;
const HALF = 1 << (PRECISION_BITS - 1);

/** Per output pixel: first input tap, number of taps, and ksize fixed-point weights. */
export interface Coefficients {
  ksize: number;
  /** [first, count] per output pixel */
  bounds: Int32Array;
  weights: Int32Array;
}

export function coefficients(inSize: number, outSize: number, filter: ResampleFilter): Coefficients {
  const f = FILTERS[filter];
  const scale = inSize / outSize;
  const filterScale = Math.max(scale, 1);
  const support = f.support * filterScale;
  const ksize = Math.ceil(support) * 2 + 1;
  const bounds = new Int32Array(outSize * 2);
  const weights = new Int32Array(outSize * ksize);
  const tmp = new Float64Array(ksize);
  const inv = 1 / filterScale;
  for (let xx = 0; xx < outSize; xx++) {
    const center = (xx + 0.5) * scale;
    let xmin = Math.trunc(center - support + 0.5);
    if (xmin < 0) xmin = 0;
    let xmax = Math.trunc(center + support + 0.5);
    if (xmax > inSize) xmax = inSize;
    const count = xmax - xmin;
    let total = 0;
    for (let x = 0; x < count; x++) {
      const w = f.fn((x + xmin - center + 0.5) * inv);
      tmp[x] = w;
      total += w;
    }
    const base = xx * ksize;
    for (let x = 0; x < count; x++) {
      const w = total !== 0 ? tmp[x] / total : tmp[x];
      // C's (int) cast truncates toward zero, so the +-0.5 rounds half away from zero.
      weights[base + x] = Math.trunc(w < 0 ? -0.5 + w * ONE : 0.5 + w * ONE);
    }
    bounds[xx * 2] = xmin;
    bounds[xx * 2 + 1] = count;
  }
  return { ksize, bounds, weights };
}

/**
 * The last few weight tables, by (input size, output size, filter). The eval path sees
 * the same image sizes over and over (ImageNet is mostly 500x375 / 375x500 / 500x333), and
 * a crop's width and height often share a size; the tables are never written after they
 * are built, so sharing them is safe. Bounded: at most CACHE_SIZE tables of ~10 KB.
 */
const coefficientCache = new Map<string, Coefficients>();
const CACHE_SIZE = 64;

function cachedCoefficients(inSize: number, outSize: number, filter: ResampleFilter): Coefficients {
  const key = `${inSize}/${outSize}/${filter}`;
  let c = coefficientCache.get(key);
  if (!c) {
    c = coefficients(inSize, outSize, filter);
    if (coefficientCache.size >= CACHE_SIZE) coefficientCache.delete(coefficientCache.keys().next().value!);
    coefficientCache.set(key, c);
  }
  return c;
}

/** clip8 of the fixed-point accumulator: arithmetic shift, then clamp to 0..255. */
function clip8(ss: number): number {
  const v = ss >> PRECISION_BITS;
  return v < 0 ? 0 : v > 255 ? 255 : v;
}

/**
 * What to compute: the crop, the full output grid it is resized to, and the window of that
 * grid actually wanted (the eval centre crop needs only 224 of 313 columns). Each output
 * pixel depends only on its own weights, so computing a window gives exactly the pixels of
 * the full resize.
 */
interface Plan {
  /** source rows/columns read: top-left and extent (the box, narrowed when a pass is identity) */
  top: number;
  left: number;
  rows: number;
  cols: number;
  /** window size: the result's width and height */
  outW: number;
  outH: number;
  /** weights of the window's columns / rows; null when that pass is the identity */
  hc: Coefficients | null;
  vc: Coefficients | null;
}

function slice(c: Coefficients, from: number, count: number): Coefficients {
  return {
    ksize: c.ksize,
    bounds: c.bounds.subarray(2 * from, 2 * (from + count)),
    weights: c.weights.subarray(from * c.ksize, (from + count) * c.ksize),
  };
}

/**
 * The same coefficients for the output columns in reverse order: output column x gets
 * what column n-1-x had, so the pass writes the mirrored row directly.
 */
function reversed(c: Coefficients): Coefficients {
  const n = c.bounds.length / 2, k = c.ksize;
  const bounds = new Int32Array(c.bounds.length), weights = new Int32Array(c.weights.length);
  for (let x = 0; x < n; x++) {
    const from = n - 1 - x;
    bounds[2 * x] = c.bounds[2 * from];
    bounds[2 * x + 1] = c.bounds[2 * from + 1];
    weights.set(c.weights.subarray(from * k, (from + 1) * k), x * k);
  }
  return { ksize: k, bounds, weights };
}

function makePlan(src: RgbImage, box: CropBox, outW: number, outH: number, filter: ResampleFilter, win: CropBox, mirror = false): Plan {
  const { i: top, j: left, h: boxH, w: boxW } = box;
  if (top < 0 || left < 0 || boxW <= 0 || boxH <= 0 || top + boxH > src.height || left + boxW > src.width) {
    throw new RangeError(`resizeCrop: box (top ${top}, left ${left}, ${boxW}x${boxH}) is not inside the ${src.width}x${src.height} image`);
  }
  if (!(outW > 0 && outH > 0)) throw new RangeError(`resizeCrop: output size ${outW}x${outH} is empty`);
  if (win.i < 0 || win.j < 0 || win.w <= 0 || win.h <= 0 || win.i + win.h > outH || win.j + win.w > outW) {
    throw new RangeError(`resizeCrop: window (top ${win.i}, left ${win.j}, ${win.w}x${win.h}) is not inside the ${outW}x${outH} output`);
  }
  // Pillow skips a pass whose size does not change; then the window is a plain offset.
  let hc = outW !== boxW ? slice(cachedCoefficients(boxW, outW, filter), win.j, win.w) : null;
  if (hc && mirror) hc = reversed(hc);
  const vc = outH !== boxH ? slice(cachedCoefficients(boxH, outH, filter), win.i, win.h) : null;
  return {
    top: vc ? top : top + win.i,
    left: hc ? left : left + win.j,
    rows: vc ? boxH : win.h,
    cols: hc ? boxW : win.w,
    outW: win.w,
    outH: win.h,
    hc,
    vc,
  };
}

/** Rows of the (narrowed) crop the vertical pass reads: [first, last). */
function rowRange(p: Plan): [number, number] {
  if (!p.vc) return [0, p.rows];
  const b = p.vc.bounds;
  let first = Infinity, last = 0;
  for (let y = 0; y < p.outH; y++) {
    first = Math.min(first, b[2 * y]);
    last = Math.max(last, b[2 * y] + b[2 * y + 1]);
  }
  return [first, last];
}

/**
 * Resizes the region `box` of `src` to outW x outH like Pillow resizing the cropped image,
 * returning only `window` of the result (default: all of it). The box must lie inside the
 * image. Runs the WebAssembly SIMD kernels where available (bit-identical to the scalar
 * code, several times faster).
 */
export function resizeCrop(src: RgbImage, box: CropBox, outW: number, outH: number, filter: ResampleFilter, window?: CropBox, opts: ResizeOptions = {}): RgbImage {
  const plan = makePlan(src, box, outW, outH, filter, window ?? { i: 0, j: 0, h: outH, w: outW }, opts.mirror);
  const k = simdKernels();
  const out = k && (plan.hc || plan.vc) ? runSimd(k, src, plan) : runScalar(src, plan);
  // Without a horizontal pass (box as wide as the output) there was nothing to reverse.
  return opts.mirror && !plan.hc ? flipHorizontal(out) : out;
}

export interface ResizeOptions {
  /**
   * Return the result mirrored left-right (the training flip). Done by reversing the
   * horizontal pass's output order, which costs nothing, instead of a separate pass.
   */
  mirror?: boolean;
}

/** The reference implementation in plain JavaScript, Pillow's loops one for one. */
export function resizeCropScalar(src: RgbImage, box: CropBox, outW: number, outH: number, filter: ResampleFilter, window?: CropBox, opts: ResizeOptions = {}): RgbImage {
  const plan = makePlan(src, box, outW, outH, filter, window ?? { i: 0, j: 0, h: outH, w: outW }, opts.mirror);
  const out = runScalar(src, plan);
  return opts.mirror && !plan.hc ? flipHorizontal(out) : out;
}

function runScalar(src: RgbImage, p: Plan): RgbImage {
  const { top, left, outW, outH, hc, vc } = p;
  const sw = src.width;
  const s = src.data;
  const [rowFirst, rowLast] = rowRange(p);

  // Horizontal pass over only the rows the vertical pass will read. `mid` row r holds
  // crop row rowFirst + r; without the pass, `mid` is the source itself.
  let mid: Uint8Array, midStride: number, midRow0: number, midCol0: number;
  if (hc) {
    const { ksize, bounds, weights } = hc;
    const midH = rowLast - rowFirst;
    mid = new Uint8Array(outW * midH * 3);
    let o = 0;
    for (let y = 0; y < midH; y++) {
      const rowBase = ((top + rowFirst + y) * sw + left) * 3;
      for (let xx = 0; xx < outW; xx++) {
        const xmin = bounds[xx * 2];
        const count = bounds[xx * 2 + 1];
        const kb = xx * ksize;
        let q = rowBase + xmin * 3;
        let r = HALF, g = HALF, b = HALF;
        for (let x = 0; x < count; x++, q += 3) {
          const k = weights[kb + x];
          r += s[q] * k;
          g += s[q + 1] * k;
          b += s[q + 2] * k;
        }
        mid[o++] = clip8(r);
        mid[o++] = clip8(g);
        mid[o++] = clip8(b);
      }
    }
    midStride = outW * 3;
    midRow0 = -rowFirst; // crop row y is mid row y - rowFirst
    midCol0 = 0;
  } else {
    mid = s;
    midStride = sw * 3;
    midRow0 = top;
    midCol0 = left;
  }

  const out = makeImage(outW, outH);
  const d = out.data;
  if (!vc) {
    for (let y = 0; y < outH; y++) {
      const from = (y + midRow0) * midStride + midCol0 * 3;
      d.set(mid.subarray(from, from + outW * 3), y * outW * 3);
    }
    return out;
  }
  const { ksize, bounds, weights } = vc;
  let o = 0;
  for (let yy = 0; yy < outH; yy++) {
    const ymin = bounds[yy * 2] + midRow0;
    const count = bounds[yy * 2 + 1];
    const kb = yy * ksize;
    for (let xx = 0; xx < outW; xx++) {
      let q = ymin * midStride + (xx + midCol0) * 3;
      let r = HALF, g = HALF, b = HALF;
      for (let y = 0; y < count; y++, q += midStride) {
        const k = weights[kb + y];
        r += mid[q] * k;
        g += mid[q + 1] * k;
        b += mid[q + 2] * k;
      }
      d[o++] = clip8(r);
      d[o++] = clip8(g);
      d[o++] = clip8(b);
    }
  }
  return out;
}

/** The same two passes on the SIMD kernels: copy the rows in, run, copy the result out. */
function runSimd(k: SimdKernels, src: RgbImage, p: Plan): RgbImage {
  const { top, left, outW, outH, hc, vc } = p;
  const [rowFirst, rowLast] = rowRange(p);
  const rows = rowLast - rowFirst;
  const stride = src.width * 3;
  const a = new Arena(k);
  const srcAt = a.alloc(rows * stride);
  const put = (c: Coefficients) => {
    const b = a.alloc(c.bounds.byteLength), w = a.alloc(c.weights.byteLength);
    a.ints(b, c.bounds.length).set(c.bounds);
    a.ints(w, c.weights.length).set(c.weights);
    return [b, w];
  };
  const [hb, hw] = hc ? put(hc) : [0, 0];
  const [vb, vw] = vc ? put(vc) : [0, 0];
  const midAt = hc && vc ? a.alloc(rows * outW * 3) : 0;
  const outAt = a.alloc(outW * outH * 3);
  a.bytes(srcAt, rows * stride).set(src.data.subarray((top + rowFirst) * stride, (top + rowLast) * stride));
  let readAt = srcAt + left * 3, readStride = stride;
  if (hc) {
    k.hpass(readAt, stride, rows, outW, hb, hw, hc.ksize * 4, vc ? midAt : outAt);
    readAt = midAt;
    readStride = outW * 3;
  }
  if (vc) {
    // The vertical bounds count from the crop's top; the copied rows start at rowFirst.
    k.vpass(readAt - rowFirst * readStride, readStride, outH, outW * 3, vb, vw, vc.ksize * 4, outAt);
  }
  return makeImage(outW, outH, a.bytes(outAt, outW * outH * 3).slice());
}

/** Whole-image resize (Pillow `Image.resize((outW, outH), filter)`). */
export function resize(src: RgbImage, outW: number, outH: number, filter: ResampleFilter): RgbImage {
  return resizeCrop(src, { i: 0, j: 0, h: src.height, w: src.width }, outW, outH, filter);
}
