// Per-pixel RandAugment ops as 256-entry lookup tables (Pillow's Image.point /
// ImageOps): a table is built once per call and applied to every byte, which is both
// what Pillow does and the fastest way to do it on a raw buffer.
import type { RgbImage } from './image.ts';

/** Applies one table to all three channels, or one table per channel. Returns a new image. */
export function applyLut(img: RgbImage, lut: Uint8Array | readonly [Uint8Array, Uint8Array, Uint8Array]): RgbImage {
  const src = img.data;
  const out = new Uint8Array(src.length);
  if (lut instanceof Uint8Array) {
    for (let p = 0; p < src.length; p++) out[p] = lut[src[p]];
  } else {
    const [r, g, b] = lut;
    for (let p = 0; p < src.length; p += 3) {
      out[p] = r[src[p]];
      out[p + 1] = g[src[p + 1]];
      out[p + 2] = b[src[p + 2]];
    }
  }
  return { width: img.width, height: img.height, data: out };
}

function table(f: (v: number) => number): Uint8Array {
  const t = new Uint8Array(256);
  for (let v = 0; v < 256; v++) t[v] = f(v);
  return t;
}

export function invert(img: RgbImage): RgbImage {
  return applyLut(img, table((v) => 255 - v));
}

/** Keeps the top `bits` bits; 8 or more is the identity and 0 gives black (Pillow's mask ~(2^(8-bits)-1)). */
export function posterize(img: RgbImage, bits: number): RgbImage {
  if (bits >= 8) return { ...img, data: img.data.slice() };
  const mask = ~((1 << (8 - Math.max(0, bits))) - 1) & 0xff;
  return applyLut(img, table((v) => v & mask));
}

/** Inverts every value at or above the threshold. */
export function solarize(img: RgbImage, threshold: number): RgbImage {
  return applyLut(img, table((v) => (v < threshold ? v : 255 - v)));
}

/** Adds `add` (saturating) to values below the threshold. */
export function solarizeAdd(img: RgbImage, add: number, threshold = 128): RgbImage {
  return applyLut(img, table((v) => (v < threshold ? Math.min(255, v + add) : v)));
}
