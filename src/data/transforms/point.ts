// Per-pixel RandAugment ops as 256-entry lookup tables (Pillow's Image.point /
// ImageOps): a table is built once per call and applied to every byte, which is both
// what Pillow does and the fastest way to do it on a raw buffer.
import { outputBuffer, type RgbImage } from './image.ts';
import { augmentKernels, lutWasm } from './augment-simd.ts';

/**
 * Applies one table to all three channels, or one table per channel. Returns a new image,
 * or writes into `into` (which may be the input's own buffer: each byte is read before
 * it is written).
 */
export function applyLut(img: RgbImage, lut: Uint8Array | readonly [Uint8Array, Uint8Array, Uint8Array], into?: Uint8Array): RgbImage {
  const src = img.data;
  const out = outputBuffer(img, into, 'applyLut', true);
  if (lut instanceof Uint8Array) lutBytes(src, out, lut, lut, lut);
  else lutBytes(src, out, lut[0], lut[1], lut[2]);
  return { width: img.width, height: img.height, data: out };
}

/**
 * out[p] = table of p's channel [src[p]]. Four bytes per step through 32-bit words where
 * the buffers allow it: a quarter of the typed-array accesses, which is what a byte loop
 * spends its time on. Four pixels are twelve bytes, three words, so the channel of every
 * byte in a word is fixed: word k of a 12-byte group starts at channel k.
 */
export function lutBytes(src: Uint8Array, out: Uint8Array, t0: Uint8Array, t1: Uint8Array, t2: Uint8Array): void {
  // the WebAssembly byte loop where available (augment-simd.ts; same bytes)
  const k = augmentKernels();
  if (k) lutWasm(k, src, out, t0, t1, t2);
  else lutBytesJs(src, out, t0, t1, t2);
}

/** lutBytes in JavaScript (the reference the kernel is tested against). */
export function lutBytesJs(src: Uint8Array, out: Uint8Array, t0: Uint8Array, t1: Uint8Array, t2: Uint8Array): void {
  const n = src.length;
  let p = 0;
  if (src.byteOffset % 4 === 0 && out.byteOffset % 4 === 0 && LITTLE_ENDIAN) {
    const groups = Math.floor(n / 12);
    const s32 = new Uint32Array(src.buffer, src.byteOffset, groups * 3);
    const o32 = new Uint32Array(out.buffer, out.byteOffset, groups * 3);
    for (let k = 0; k < groups * 3; k += 3) {
      // bytes 0-3: R G B R; 4-7: G B R G; 8-11: B R G B (little-endian: byte 0 is the low one)
      const a = s32[k], b = s32[k + 1], c = s32[k + 2];
      o32[k] = (t0[a & 255] | (t1[(a >>> 8) & 255] << 8) | (t2[(a >>> 16) & 255] << 16) | (t0[a >>> 24] << 24)) >>> 0;
      o32[k + 1] = (t1[b & 255] | (t2[(b >>> 8) & 255] << 8) | (t0[(b >>> 16) & 255] << 16) | (t1[b >>> 24] << 24)) >>> 0;
      o32[k + 2] = (t2[c & 255] | (t0[(c >>> 8) & 255] << 8) | (t1[(c >>> 16) & 255] << 16) | (t2[c >>> 24] << 24)) >>> 0;
    }
    p = groups * 12;
  }
  for (; p < n; p += 3) {
    out[p] = t0[src[p]];
    if (p + 1 < n) out[p + 1] = t1[src[p + 1]];
    if (p + 2 < n) out[p + 2] = t2[src[p + 2]];
  }
}

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

function table(f: (v: number) => number): Uint8Array {
  const t = new Uint8Array(256);
  for (let v = 0; v < 256; v++) t[v] = f(v);
  return t;
}

// The ops below write into `into` when given (it may be the input's buffer).

export function invert(img: RgbImage, into?: Uint8Array): RgbImage {
  return applyLut(img, table((v) => 255 - v), into);
}

/** Keeps the top `bits` bits; 8 or more is the identity and 0 gives black (Pillow's mask ~(2^(8-bits)-1)). */
export function posterize(img: RgbImage, bits: number, into?: Uint8Array): RgbImage {
  if (bits >= 8) {
    const out = outputBuffer(img, into, 'posterize', true);
    if (out !== img.data) out.set(img.data);
    return { width: img.width, height: img.height, data: out };
  }
  const mask = ~((1 << (8 - Math.max(0, bits))) - 1) & 0xff;
  return applyLut(img, table((v) => v & mask), into);
}

/** Inverts every value at or above the threshold. */
export function solarize(img: RgbImage, threshold: number, into?: Uint8Array): RgbImage {
  return applyLut(img, table((v) => (v < threshold ? v : 255 - v)), into);
}

/** Adds `add` (saturating) to values below the threshold. */
export function solarizeAdd(img: RgbImage, add: number, threshold = 128, into?: Uint8Array): RgbImage {
  return applyLut(img, table((v) => (v < threshold ? Math.min(255, v + add) : v)), into);
}
