// The four ImageEnhance ops of RandAugment. Each is Pillow's Image.blend(degenerate,
// img, factor): degenerate + factor*(img - degenerate) in float32, truncated toward zero
// and clipped to 0..255 (blend never rounds). Only the degenerate image differs.
import type { RgbImage } from './image.ts';

const f32 = Math.fround;

/** Pillow's blend. Factors 0 and 1 return copies of one input, as Pillow short-cuts them. */
export function blend(degenerate: Uint8Array | number, img: RgbImage, factor: number): RgbImage {
  const src = img.data;
  const out = new Uint8Array(src.length);
  if (factor === 1) {
    out.set(src);
    return { width: img.width, height: img.height, data: out };
  }
  // Pillow passes alpha as a C float.
  const a = f32(factor);
  // For a constant degenerate image every output depends on one input byte: tabulate.
  if (typeof degenerate === 'number') {
    const t = new Uint8Array(256);
    for (let v = 0; v < 256; v++) t[v] = blendOne(degenerate, v, a);
    for (let p = 0; p < src.length; p++) out[p] = t[src[p]];
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

/** Saturation: blend with the greyscale copy. */
export function color(img: RgbImage, factor: number): RgbImage {
  return blend(greyscale(img), img, factor);
}

/** Contrast: blend with a flat grey at the rounded mean luma (ImageStat mean, int(m + 0.5)). */
export function contrast(img: RgbImage, factor: number): RgbImage {
  const d = img.data;
  let sum = 0;
  for (let p = 0; p < d.length; p += 3) sum += luma(d[p], d[p + 1], d[p + 2]);
  const mean = Math.trunc(sum / (d.length / 3) + 0.5);
  return blend(mean, img, factor);
}

/** Brightness: blend with black. */
export function brightness(img: RgbImage, factor: number): RgbImage {
  return blend(0, img, factor);
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
  const q = new Uint8Array(13 * 255 + 1);
  for (let n = 0; n < q.length; n++) q[n] = Math.floor((2 * n + 13) / 26);
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

/** Sharpness: blend with the smoothed image (factor > 1 sharpens). */
export function sharpness(img: RgbImage, factor: number): RgbImage {
  return blend(smooth(img), img, factor);
}
