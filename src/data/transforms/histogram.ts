// RandAugment ops driven by each channel's histogram: AutoContrast and Equalize, with
// Pillow's ImageOps integer rules (truncating int(), floor divisions), so they match
// exactly rather than to within a level.
import type { RgbImage } from './image.ts';
import { applyLut } from './point.ts';
import { augmentKernels, histWasm } from './augment-simd.ts';

function channelHistograms(img: RgbImage): [Int32Array, Int32Array, Int32Array] {
  const k = augmentKernels();
  return k ? histWasm(k, img.data) : channelHistogramsJs(img);
}

/** The histograms in JavaScript (the reference the kernel is tested against). */
export function channelHistogramsJs(img: RgbImage): [Int32Array, Int32Array, Int32Array] {
  const h: [Int32Array, Int32Array, Int32Array] = [new Int32Array(256), new Int32Array(256), new Int32Array(256)];
  const [h0, h1, h2] = h;
  const d = img.data;
  let p = 0;
  if (d.byteOffset % 4 === 0) {
    // Whole 12-byte groups (four pixels) as three 32-bit words, as lutBytes reads them:
    // bytes R G B R | G B R G | B R G B, low byte first (the platforms Node and Deno run on
    // are little-endian; the byte loop below is the fallback).
    const groups = Math.floor(d.length / 12);
    const w = new Uint32Array(d.buffer, d.byteOffset, groups * 3);
    if (new Uint8Array(new Uint32Array([1]).buffer)[0] === 1) {
      for (let k = 0; k < groups * 3; k += 3) {
        const a = w[k], b = w[k + 1], c = w[k + 2];
        h0[a & 255]++; h1[(a >>> 8) & 255]++; h2[(a >>> 16) & 255]++; h0[a >>> 24]++;
        h1[b & 255]++; h2[(b >>> 8) & 255]++; h0[(b >>> 16) & 255]++; h1[b >>> 24]++;
        h2[c & 255]++; h0[(c >>> 8) & 255]++; h1[(c >>> 16) & 255]++; h2[c >>> 24]++;
      }
      p = groups * 12;
    }
  }
  for (; p < d.length; p += 3) {
    h0[d[p]]++;
    h1[d[p + 1]]++;
    h2[d[p + 2]]++;
  }
  return h;
}

function identity(): Uint8Array {
  const t = new Uint8Array(256);
  for (let v = 0; v < 256; v++) t[v] = v;
  return t;
}

// Both ops write into `into` when given (it may be the input's buffer: the histograms are
// taken before anything is written).

/** Stretches each channel so its lowest present value maps to 0 and its highest to 255. */
export function autoContrast(img: RgbImage, into?: Uint8Array): RgbImage {
  const luts = channelHistograms(img).map((h) => {
    let lo = 0;
    while (lo < 256 && !h[lo]) lo++;
    let hi = 255;
    while (hi >= 0 && !h[hi]) hi--;
    if (hi <= lo) return identity();
    const scale = 255 / (hi - lo);
    const offset = -lo * scale;
    const t = new Uint8Array(256);
    for (let v = 0; v < 256; v++) {
      const x = Math.trunc(v * scale + offset);
      t[v] = x < 0 ? 0 : x > 255 ? 255 : x;
    }
    return t;
  }) as [Uint8Array, Uint8Array, Uint8Array];
  return applyLut(img, luts, into);
}

/** Per-channel histogram equalisation, Pillow's ImageOps.equalize. */
export function equalize(img: RgbImage, into?: Uint8Array): RgbImage {
  const luts = channelHistograms(img).map((h) => {
    let total = 0, last = 0, nonZero = 0;
    for (let v = 0; v < 256; v++) {
      if (h[v]) {
        total += h[v];
        last = h[v];
        nonZero++;
      }
    }
    if (nonZero <= 1) return identity();
    // The most populated-last bin is left out so the brightest level maps to 255.
    const step = Math.floor((total - last) / 255);
    if (step === 0) return identity();
    const t = new Uint8Array(256);
    let n = Math.floor(step / 2);
    for (let v = 0; v < 256; v++) {
      const x = Math.floor(n / step);
      t[v] = x > 255 ? 255 : x;
      n += h[v];
    }
    return t;
  }) as [Uint8Array, Uint8Array, Uint8Array];
  return applyLut(img, luts, into);
}
