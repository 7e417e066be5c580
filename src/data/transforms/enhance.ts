// The four ImageEnhance ops of RandAugment. Each is Pillow's Image.blend(degenerate,
// img, factor): degenerate + factor*(img - degenerate) in float32, truncated toward zero
// and clipped to 0..255 (blend never rounds). Only the degenerate image differs.
import { outputBuffer, type RgbImage } from './image.ts';
import { lutBytes } from './point.ts';
import { augmentKernels, colorWasm, lumaSumWasm, sharpenWasm } from './augment-simd.ts';

const f32 = Math.fround;

/**
 * Pillow's blend. Factors 0 and 1 return copies of one input, as Pillow short-cuts them.
 * Writes into `into` when given; it may be the input's buffer (byte p is read, then written).
 */
export function blend(degenerate: Uint8Array | number, img: RgbImage, factor: number, into?: Uint8Array): RgbImage {
  const src = img.data;
  const out = outputBuffer(img, into, 'blend', true);
  if (factor === 1) {
    if (out !== src) out.set(src);
    return { width: img.width, height: img.height, data: out };
  }
  // Pillow passes alpha as a C float.
  const a = f32(factor);
  // For a constant degenerate image every output depends on one input byte: tabulate.
  if (typeof degenerate === 'number') {
    const t = new Uint8Array(256);
    for (let v = 0; v < 256; v++) t[v] = blendOne(degenerate, v, a);
    lutBytes(src, out, t, t, t);
  } else {
    if (degenerate.length !== src.length) throw new RangeError('blend: images differ in size');
    if (factor === 0) out.set(degenerate);
    else {
      // a * (s - d) in float32 depends only on s - d: tabulate its 511 values.
      const scaled = new Float32Array(511);
      for (let diff = -255; diff <= 255; diff++) scaled[diff + 255] = a * diff;
      for (let p = 0; p < src.length; p++) {
        const dg = degenerate[p];
        const t = f32(dg + scaled[src[p] - dg + 255]);
        out[p] = t <= 0 ? 0 : t >= 255 ? 255 : Math.trunc(t);
      }
    }
  }
  return { width: img.width, height: img.height, data: out };
}

/**
 * f32(a * diff) for diff = s - d in -255..255 (index diff + 255): Pillow's blend term,
 * which depends on the difference alone.
 */
function scaledDiffs(factor: number): Float32Array {
  const a = f32(factor);
  const scaled = new Float32Array(511);
  for (let diff = -255; diff <= 255; diff++) scaled[diff + 255] = a * diff;
  return scaled;
}

function blendOne(d: number, s: number, a: number): number {
  const t = f32(d + f32(a * (s - d)));
  return t <= 0 ? 0 : t >= 255 ? 255 : Math.trunc(t);
}

/** Pillow's RGB -> L: ITU-R 601 luma in 16-bit fixed point, rounded. */
export function luma(r: number, g: number, b: number): number {
  return (r * 19595 + g * 38470 + b * 7471 + 0x8000) >>> 16;
}

export function greyscale(img: RgbImage): Uint8Array {
  const d = img.data;
  const out = new Uint8Array(d.length);
  for (let p = 0; p < d.length; p += 3) {
    const l = luma(d[p], d[p + 1], d[p + 2]);
    out[p] = l;
    out[p + 1] = l;
    out[p + 2] = l;
  }
  return out;
}

/**
 * Saturation: blend with the greyscale copy. Fused into one pass (each pixel's luma is
 * the degenerate value of its three channels), the same arithmetic as
 * blend(greyscale(img), img, factor) without the intermediate image. `into` may be the
 * input's buffer (a pixel is read whole before it is written).
 */
export function color(img: RgbImage, factor: number, into?: Uint8Array): RgbImage {
  const d = img.data;
  const out = outputBuffer(img, into, 'color', true);
  if (factor === 1) {
    if (out !== d) out.set(d);
    return { width: img.width, height: img.height, data: out };
  }
  // factor 0 gives the greyscale image through the same formula (scaled is all zeros)
  const k = augmentKernels();
  // the kernel's 16-bit lanes hold every blend value while |factor| <= 100 (as for Sharpness)
  if (k && Math.abs(factor) <= 100) {
    colorWasm(k, d, out, factor);
    return { width: img.width, height: img.height, data: out };
  }
  const scaled = scaledDiffs(factor);
  for (let p = 0; p < d.length; p += 3) {
    const r = d[p], g = d[p + 1], b = d[p + 2];
    const l = (r * 19595 + g * 38470 + b * 7471 + 0x8000) >>> 16;
    const tr = f32(l + scaled[r - l + 255]), tg = f32(l + scaled[g - l + 255]), tb = f32(l + scaled[b - l + 255]);
    out[p] = tr <= 0 ? 0 : tr >= 255 ? 255 : tr | 0;
    out[p + 1] = tg <= 0 ? 0 : tg >= 255 ? 255 : tg | 0;
    out[p + 2] = tb <= 0 ? 0 : tb >= 255 ? 255 : tb | 0;
  }
  return { width: img.width, height: img.height, data: out };
}

/** Contrast: blend with a flat grey at the rounded mean luma (ImageStat mean, int(m + 0.5)). */
export function contrast(img: RgbImage, factor: number, into?: Uint8Array): RgbImage {
  const d = img.data;
  const k = augmentKernels();
  let sum = 0;
  if (k) sum = lumaSumWasm(k, d);
  else for (let p = 0; p < d.length; p += 3) sum += luma(d[p], d[p + 1], d[p + 2]);
  const mean = Math.trunc(sum / (d.length / 3) + 0.5);
  return blend(mean, img, factor, into);
}

/** Brightness: blend with black. */
export function brightness(img: RgbImage, factor: number, into?: Uint8Array): RgbImage {
  return blend(0, img, factor, into);
}

let quotients: Uint8Array | undefined;

/** SMOOTH's byte for each weighted sum n = 0 .. 13 * 255: floor((2n + 13) / 26), see smooth(). */
function smoothQuotients(): Uint8Array {
  if (!quotients) {
    quotients = new Uint8Array(13 * 255 + 1);
    for (let n = 0; n < quotients.length; n++) quotients[n] = Math.floor((2 * n + 13) / 26);
  }
  return quotients;
}

/**
 * Pillow's SMOOTH filter: 3x3 kernel [[1,1,1],[1,5,1],[1,1,1]] / 13 with the one-pixel
 * border copied unchanged. Pillow sums float32 products onto 0.5 and truncates; with n the
 * integer weighted sum, the exact value n/13 + 0.5 is never closer than 1/26 to an integer
 * (13 is odd), far beyond float32's error of ~3e-5 at this scale, so floor((2n + 13) / 26)
 * gives Pillow's bytes exactly, in integer arithmetic (a test checks it against float32).
 */
export function smooth(img: RgbImage): Uint8Array {
  const { width: w, height: h, data: d } = img;
  const out = d.slice();
  if (w < 3 || h < 3) return out;
  const q = smoothQuotients();
  const stride = w * 3;
  for (let y = 1; y < h - 1; y++) {
    for (let p = y * stride + 3, end = (y + 1) * stride - 3; p < end; p++) {
      const a = p - stride, b = p + stride;
      const n = d[a - 3] + d[a] + d[a + 3] + d[p - 3] + 5 * d[p] + d[p + 3] + d[b - 3] + d[b] + d[b + 3];
      out[p] = q[n];
    }
  }
  return out;
}

/**
 * Sharpness: blend with the smoothed image (factor > 1 sharpens). Fused into one pass:
 * the SMOOTH value of each interior byte is blended as soon as it is known; border bytes,
 * which SMOOTH copies, blend with themselves and stay unchanged. Same bytes as
 * blend(smooth(img), img, factor) (a test compares the two).
 */
export function sharpness(img: RgbImage, factor: number, into?: Uint8Array): RgbImage {
  const { width: w, height: h, data: d } = img;
  // reads the rows above and below: `into` must be another buffer
  const out = outputBuffer(img, into, 'sharpness', false);
  out.set(d);
  if (factor === 1 || w < 3 || h < 3) return { width: w, height: h, data: out };
  const k = augmentKernels();
  // The kernel's 16-bit lanes hold every blend value while |factor| <= 100 (|t| < 2^15).
  if (k && Math.abs(factor) <= 100) {
    sharpenWasm(k, d, w, h, factor, out);
    return { width: w, height: h, data: out };
  }
  const q = smoothQuotients();
  const scaled = scaledDiffs(factor);
  const stride = w * 3;
  // The 3x3 sum is three column sums (above + centre + below) plus 4 more of the centre;
  // walking a row, each column sum is computed once and reused by three outputs.
  for (let y = 1; y < h - 1; y++) {
    const row = y * stride;
    for (let ch = 0; ch < 3; ch++) {
      let p = row + ch;
      let left = d[p - stride] + d[p] + d[p + stride];
      p += 3;
      let mid = d[p - stride] + d[p] + d[p + stride];
      for (let x = 1; x < w - 1; x++, p += 3) {
        const right = d[p + 3 - stride] + d[p + 3] + d[p + 3 + stride];
        const s = d[p];
        const dg = q[left + mid + right + 4 * s];
        const t = f32(dg + scaled[s - dg + 255]);
        out[p] = t <= 0 ? 0 : t >= 255 ? 255 : t | 0;
        left = mid;
        mid = right;
      }
    }
  }
  return { width: w, height: h, data: out };
}
