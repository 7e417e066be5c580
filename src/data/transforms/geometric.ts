// RandAugment's geometric ops as Pillow performs them (Image.transform with AFFINE, and
// Image.rotate which builds an affine matrix): for each output pixel centre (x+.5, y+.5)
// the matrix gives an input position; bilinear or bicubic (Pillow's affine cubic uses
// a = -1, unlike its resize) interpolates there, with edge taps clamped; positions
// outside the input keep the fill colour. No antialiasing: Pillow's affine never has any.
import type { RgbImage } from './image.ts';
import { filledImage, outputBuffer } from './image.ts';
import { pyRoundDigits } from './pymath.ts';
import type { ResampleFilter } from './resample.ts';
import { affineWasm, augmentKernels, rowsWasm } from './augment-simd.ts';

export type Rgb = readonly [number, number, number];
/** (a, b, c, d, e, f): input x = a*x + b*y + c, input y = d*x + e*y + f. */
export type AffineMatrix = readonly [number, number, number, number, number, number];

/**
 * `general: true` runs only the plain per-pixel loop (the reference the fast paths are
 * tested against, bit for bit).
 */
export function affine(img: RgbImage, m: AffineMatrix, filter: ResampleFilter, fill: Rgb, opts: { general?: boolean; into?: Uint8Array } = {}): RgbImage {
  const { width: w, height: h, data: src } = img;
  // `into`: where to write (not the input's buffer: every output reads other pixels)
  const [a, b, c, dd, e, f] = m;
  const k = opts.general ? null : augmentKernels();
  // The WebAssembly affine kernel (augment-simd.ts) pays for every warp (1.2-2x) but
  // TranslateY, whose whole-row blends go to the row kernel below (translateRows).
  const rowBlend = a === 1 && b === 0 && c === 0 && dd === 0;
  if (k && w >= 4 && h >= 4 && !rowBlend) {
    // It writes every pixel (fill colour included): no fill first. The pixels whose taps
    // cross an edge come back here for the reference sampler (Pillow's edge rules).
    const d = opts.into ? outputBuffer(img, opts.into, 'affine', false) : new Uint8Array(w * h * 3);
    const cubicFilter = filter === 'bicubic';
    const todo = affineWasm(k, src, w, h, m, cubicFilter, fill, d);
    const stride = w * 3;
    for (let i = 0; i < todo.length; i++) {
      const o = todo[i];
      const y = Math.floor(o / stride), x = (o - y * stride) / 3;
      const xc = x + 0.5, yc = y + 0.5;
      const xin = a * xc + b * yc + c, yin = dd * xc + e * yc + f;
      if (cubicFilter) bicubicAt(src, w, h, xin, yin, d, o);
      else bilinearAt(src, w, h, xin, yin, d, o);
    }
    return { width: w, height: h, data: d };
  }
  const out = filledImage(w, h, fill, opts.into && outputBuffer(img, opts.into, 'affine', false));
  const d = out.data;
  if (!opts.general) {
    // Each fast path evaluates the same floating-point expressions as the general loop
    // (same operands, same order), so it gives the same bytes; it only drops work whose
    // result is known: interpolation along an axis whose offset is exactly zero, edge
    // clamps for pixels well inside the image, repeated per-row set-up.
    if (a === 1 && b === 0 && c === 0) {
      // ShearY and TranslateY: xin = 1*xc + 0*yc + 0 = xc exactly, so the x offset is 0.
      affineColumnExact(src, w, h, dd, e, f, filter, d);
    } else if (dd === 0) {
      // ShearX and TranslateX: each output row reads one input row position.
      affineRowConstant(src, w, h, m, filter, d);
    } else {
      // Rotate.
      affineFast(src, w, h, m, filter, d);
    }
    return out;
  }
  // One loop per filter so the sampler is a direct (inlinable) call.
  if (filter === 'bilinear') {
    for (let y = 0; y < h; y++) {
      const yc = y + 0.5;
      for (let x = 0; x < w; x++) {
        const xc = x + 0.5;
        const xin = a * xc + b * yc + c;
        const yin = dd * xc + e * yc + f;
        // Pillow's filters reject positions outside [0, size) before interpolating.
        if (xin < 0 || xin >= w || yin < 0 || yin >= h) continue;
        bilinearAt(src, w, h, xin, yin, d, (y * w + x) * 3);
      }
    }
  } else {
    for (let y = 0; y < h; y++) {
      const yc = y + 0.5;
      for (let x = 0; x < w; x++) {
        const xc = x + 0.5;
        const xin = a * xc + b * yc + c;
        const yin = dd * xc + e * yc + f;
        if (xin < 0 || xin >= w || yin < 0 || yin >= h) continue;
        bicubicAt(src, w, h, xin, yin, d, (y * w + x) * 3);
      }
    }
  }
  return out;
}

/** Clip to 0..255 and truncate, as Pillow stores a cubic result in a byte. */
function clipTrunc(v: number): number {
  return v <= 0 ? 0 : v >= 255 ? 255 : Math.trunc(v);
}

/**
 * The x offset is exactly 0 (matrix a = 1, b = c = 0): each output pixel interpolates
 * its own input column vertically. The horizontal cubic or lerp of the general loop
 * returns its sample at x unchanged when the offset is 0 (v + 0 * (...) = v), so only
 * the vertical step remains.
 */
function affineColumnExact(src: Uint8Array, w: number, h: number, dd: number, e: number, f: number, filter: ResampleFilter, out: Uint8Array): void {
  const stride = w * 3;
  const cubicFilter = filter === 'bicubic';
  if (dd === 0) {
    translateRows(src, w, h, e, f, cubicFilter, out);
    return;
  }
  for (let y = 0; y < h; y++) {
    const eyc = e * (y + 0.5);
    let o = y * stride;
    for (let x = 0; x < w; x++, o += 3) {
      const yin = dd * (x + 0.5) + eyc + f;
      if (yin < 0 || yin >= h) continue;
      // yin in [0, h) puts yf in [-1, h - 1].
      const yy = yin - 0.5;
      const yf = Math.floor(yy);
      const dy = yy - yf;
      const col = x * 3;
      if (!cubicFilter) {
        const p0 = (yf < 0 ? 0 : yf) * stride + col;
        if (yf + 1 < h) {
          const p1 = (yf + 1) * stride + col;
          const r0 = src[p0], g0 = src[p0 + 1], b0 = src[p0 + 2];
          // bilinear results lie in [0, 255]: truncation is `| 0`
          out[o] = (r0 + (src[p1] - r0) * dy) | 0;
          out[o + 1] = (g0 + (src[p1 + 1] - g0) * dy) | 0;
          out[o + 2] = (b0 + (src[p1 + 2] - b0) * dy) | 0;
        } else {
          // no row below: the lerp is between equal values
          out[o] = src[p0];
          out[o + 1] = src[p0 + 1];
          out[o + 2] = src[p0 + 2];
        }
        continue;
      }
      const top = yf - 1;
      if (top >= 0 && yf + 2 < h) {
        // all four rows exist
        const p0 = top * stride + col, p1 = p0 + stride, p2 = p1 + stride, p3 = p2 + stride;
        out[o] = clipTrunc(cubic(src[p0], src[p1], src[p2], src[p3], dy));
        out[o + 1] = clipTrunc(cubic(src[p0 + 1], src[p1 + 1], src[p2 + 1], src[p3 + 1], dy));
        out[o + 2] = clipTrunc(cubic(src[p0 + 2], src[p1 + 2], src[p2 + 2], src[p3 + 2], dy));
        continue;
      }
      // Near the top or bottom: Pillow's rule (rows beyond the edge repeat the previous one).
      const p0 = clampX(top, h) * stride + col;
      const ok1 = yf >= 0 && yf < h, ok2 = yf + 1 >= 0 && yf + 1 < h, ok3 = yf + 2 >= 0 && yf + 2 < h;
      for (let ch = 0; ch < 3; ch++) {
        const v1 = src[p0 + ch];
        const v2 = ok1 ? src[yf * stride + col + ch] : v1;
        const v3 = ok2 ? src[(yf + 1) * stride + col + ch] : v2;
        const v4 = ok3 ? src[(yf + 2) * stride + col + ch] : v3;
        out[o + ch] = clipTrunc(cubic(v1, v2, v3, v4, dy));
      }
    }
  }
}

/**
 * TranslateY (and any matrix with a = 1, b = c = d = 0): every pixel of an output row
 * has the same input position, so the row is a blend of whole input rows with one
 * weight, byte by byte, with no per-pixel position arithmetic.
 */
function translateRows(src: Uint8Array, w: number, h: number, e: number, f: number, cubicFilter: boolean, out: Uint8Array): void {
  const stride = w * 3;
  const k = augmentKernels();
  if (k) {
    translateRowsWasm(src, w, h, e, f, cubicFilter, out, k);
    return;
  }
  for (let y = 0; y < h; y++) {
    // the general loop's 0 * xc + e * yc + f, with 0 * xc = 0 for every x
    const yin = 0 + e * (y + 0.5) + f;
    if (yin < 0 || yin >= h) continue;
    const yy = yin - 0.5;
    const yf = Math.floor(yy);
    const dy = yy - yf;
    const o = y * stride;
    if (!cubicFilter) {
      const p0 = (yf < 0 ? 0 : yf) * stride;
      if (yf + 1 >= h) {
        out.set(src.subarray(p0, p0 + stride), o);
        continue;
      }
      const p1 = (yf + 1) * stride;
      for (let k = 0; k < stride; k++) {
        const v0 = src[p0 + k];
        out[o + k] = (v0 + (src[p1 + k] - v0) * dy) | 0;
      }
      continue;
    }
    // Rows yf-1 .. yf+2; one beyond the edge repeats the previous row (the top one is clamped).
    const r0 = clampX(yf - 1, h) * stride;
    const r1 = yf >= 0 && yf < h ? yf * stride : r0;
    const r2 = yf + 1 >= 0 && yf + 1 < h ? (yf + 1) * stride : r1;
    const r3 = yf + 2 >= 0 && yf + 2 < h ? (yf + 2) * stride : r2;
    for (let k = 0; k < stride; k++) {
      out[o + k] = clipTrunc(cubic(src[r0 + k], src[r1 + k], src[r2 + k], src[r3 + k], dy));
    }
  }
}

/**
 * translateRows on the kernel (augment-simd.ts): the same per-row set-up here, the rows
 * blended there. Each row's input rows go as byte offsets with the edge rules applied (for
 * bilinear, a missing second row is the first again: v0 + 0 * dy is v0).
 */
function translateRowsWasm(src: Uint8Array, w: number, h: number, e: number, f: number, cubicFilter: boolean, out: Uint8Array, k: NonNullable<ReturnType<typeof augmentKernels>>): void {
  const stride = w * 3;
  const rows = new Int32Array(4 * h).fill(-1);
  const dys = new Float64Array(h);
  let first = h, last = -1;
  for (let y = 0; y < h; y++) {
    const yin = 0 + e * (y + 0.5) + f;
    if (yin < 0 || yin >= h) continue;
    const yy = yin - 0.5;
    const yf = Math.floor(yy);
    dys[y] = yy - yf;
    if (!cubicFilter) {
      const p0 = (yf < 0 ? 0 : yf) * stride;
      rows[4 * y] = p0;
      rows[4 * y + 1] = yf + 1 >= h ? p0 : (yf + 1) * stride;
    } else {
      const r0 = clampX(yf - 1, h) * stride;
      const r1 = yf >= 0 && yf < h ? yf * stride : r0;
      const r2 = yf + 1 >= 0 && yf + 1 < h ? (yf + 1) * stride : r1;
      rows.set([r0, r1, r2, yf + 2 >= 0 && yf + 2 < h ? (yf + 2) * stride : r2], 4 * y);
    }
    if (y < first) first = y;
    last = y;
  }
  // the rows in between are all computed (yin is monotonic in y); the others keep the fill
  rowsWasm(k, src, stride, rows, dys, cubicFilter, first, last, out);
}

/**
 * The d = 0 case of `affine`: yin = e*yc + f is the same for a whole output row, so the
 * row's vertical set-up is done once; when its offset is exactly 0 (ShearX and
 * TranslateX, whose e = 1 and f = 0), only the horizontal step is computed.
 */
function affineRowConstant(src: Uint8Array, w: number, h: number, m: AffineMatrix, filter: ResampleFilter, out: Uint8Array): void {
  const [a, b, c, , e, f] = m;
  const stride = w * 3;
  const cubicFilter = filter === 'bicubic';
  for (let y = 0; y < h; y++) {
    const yc = y + 0.5;
    const yin = e * yc + f; // = 0 * xc + e * yc + f exactly
    if (yin < 0 || yin >= h) continue; // the whole row keeps the fill colour
    const yy = yin - 0.5;
    const yf = Math.floor(yy);
    const dy = yy - yf;
    const bc = b * yc;
    const o0 = y * stride;
    if (dy === 0) {
      // One input row (yf, inside the image since yy >= 0); the vertical step would
      // return it unchanged.
      rowHorizontal(src, w, yf * stride, a, bc, c, cubicFilter, out, o0);
      continue;
    }
    // Input rows the filter reads and whether each exists (Pillow's edge rules).
    const top = cubicFilter ? yf - 1 : yf;
    const r0 = clampX(top, h) * stride;
    const ok1 = top + 1 >= 0 && top + 1 < h, ok2 = top + 2 >= 0 && top + 2 < h, ok3 = top + 3 >= 0 && top + 3 < h;
    const r1 = (top + 1) * stride, r2 = (top + 2) * stride, r3 = (top + 3) * stride;
    let o = o0;
    for (let x = 0; x < w; x++, o += 3) {
      const xin = a * (x + 0.5) + bc + c;
      if (xin < 0 || xin >= w) continue;
      const xx = xin - 0.5;
      const xf = Math.floor(xx);
      const dx = xx - xf;
      if (!cubicFilter) {
        const x0 = clampX(xf, w) * 3, x1 = clampX(xf + 1, w) * 3;
        for (let ch = 0; ch < 3; ch++) {
          const a0 = src[r0 + x0 + ch], a1 = src[r0 + x1 + ch];
          const v1 = a0 + (a1 - a0) * dx;
          let v2 = v1;
          if (ok1) {
            const b0 = src[r1 + x0 + ch], b1 = src[r1 + x1 + ch];
            v2 = b0 + (b1 - b0) * dx;
          }
          out[o + ch] = Math.trunc(v1 + (v2 - v1) * dy);
        }
        continue;
      }
      const x0 = clampX(xf - 1, w) * 3, x1 = clampX(xf, w) * 3, x2 = clampX(xf + 1, w) * 3, x3 = clampX(xf + 2, w) * 3;
      for (let ch = 0; ch < 3; ch++) {
        let v1: number, v2: number, v3: number, v4: number;
        if (dx === 0) {
          const col = x1 + ch;
          v1 = src[r0 + col];
          v2 = ok1 ? src[r1 + col] : v1;
          v3 = ok2 ? src[r2 + col] : v2;
          v4 = ok3 ? src[r3 + col] : v3;
        } else {
          v1 = cubic(src[r0 + x0 + ch], src[r0 + x1 + ch], src[r0 + x2 + ch], src[r0 + x3 + ch], dx);
          v2 = ok1 ? cubic(src[r1 + x0 + ch], src[r1 + x1 + ch], src[r1 + x2 + ch], src[r1 + x3 + ch], dx) : v1;
          v3 = ok2 ? cubic(src[r2 + x0 + ch], src[r2 + x1 + ch], src[r2 + x2 + ch], src[r2 + x3 + ch], dx) : v2;
          v4 = ok3 ? cubic(src[r3 + x0 + ch], src[r3 + x1 + ch], src[r3 + x2 + ch], src[r3 + x3 + ch], dx) : v3;
        }
        out[o + ch] = clipTrunc(cubic(v1, v2, v3, v4, dy));
      }
    }
  }
}

/** One output row read from one input row (vertical offset 0): horizontal lerp or cubic only. */
function rowHorizontal(src: Uint8Array, w: number, row: number, a: number, bc: number, c: number, cubicFilter: boolean, out: Uint8Array, o: number): void {
  for (let x = 0; x < w; x++, o += 3) {
    const xin = a * (x + 0.5) + bc + c;
    if (xin < 0 || xin >= w) continue;
    const xx = xin - 0.5;
    const xf = Math.floor(xx);
    const dx = xx - xf;
    if (!cubicFilter) {
      const p0 = row + clampX(xf, w) * 3, p1 = row + clampX(xf + 1, w) * 3;
      const r0 = src[p0], g0 = src[p0 + 1], b0 = src[p0 + 2];
      out[o] = (r0 + (src[p1] - r0) * dx) | 0;
      out[o + 1] = (g0 + (src[p1 + 1] - g0) * dx) | 0;
      out[o + 2] = (b0 + (src[p1 + 2] - b0) * dx) | 0;
      continue;
    }
    if (dx === 0) {
      const p = row + xf * 3; // xf = xx is inside the image here
      out[o] = src[p];
      out[o + 1] = src[p + 1];
      out[o + 2] = src[p + 2];
      continue;
    }
    if (xf >= 1 && xf + 2 < w) {
      const p0 = row + (xf - 1) * 3;
      out[o] = clipTrunc(cubic(src[p0], src[p0 + 3], src[p0 + 6], src[p0 + 9], dx));
      out[o + 1] = clipTrunc(cubic(src[p0 + 1], src[p0 + 4], src[p0 + 7], src[p0 + 10], dx));
      out[o + 2] = clipTrunc(cubic(src[p0 + 2], src[p0 + 5], src[p0 + 8], src[p0 + 11], dx));
      continue;
    }
    const x0 = row + clampX(xf - 1, w) * 3, x1 = row + clampX(xf, w) * 3, x2 = row + clampX(xf + 1, w) * 3, x3 = row + clampX(xf + 2, w) * 3;
    for (let ch = 0; ch < 3; ch++) out[o + ch] = clipTrunc(cubic(src[x0 + ch], src[x1 + ch], src[x2 + ch], src[x3 + ch], dx));
  }
}

/**
 * The general matrix (Rotate): the per-pixel loop with the pixels whose taps all lie
 * inside the image done inline without edge clamps; the rest go through the reference
 * samplers.
 */
function affineFast(src: Uint8Array, w: number, h: number, m: AffineMatrix, filter: ResampleFilter, out: Uint8Array): void {
  const [a, b, c, dd, e, f] = m;
  const stride = w * 3;
  const cubicFilter = filter === 'bicubic';
  for (let y = 0; y < h; y++) {
    const yc = y + 0.5;
    const byc = b * yc, eyc = e * yc;
    let o = y * stride;
    for (let x = 0; x < w; x++, o += 3) {
      const xc = x + 0.5;
      const xin = a * xc + byc + c;
      const yin = dd * xc + eyc + f;
      if (xin < 0 || xin >= w || yin < 0 || yin >= h) continue;
      const xx = xin - 0.5, yy = yin - 0.5;
      const xf = Math.floor(xx), yf = Math.floor(yy);
      const dx = xx - xf, dy = yy - yf;
      if (!cubicFilter) {
        if (xf >= 0 && xf + 1 < w && yf >= 0 && yf + 1 < h) {
          const p = yf * stride + xf * 3, q = p + stride;
          for (let ch = 0; ch < 3; ch++) {
            const a0 = src[p + ch], b0 = src[q + ch];
            const v1 = a0 + (src[p + 3 + ch] - a0) * dx;
            const v2 = b0 + (src[q + 3 + ch] - b0) * dx;
            out[o + ch] = (v1 + (v2 - v1) * dy) | 0;
          }
        } else {
          bilinearAt(src, w, h, xin, yin, out, o);
        }
        continue;
      }
      if (xf >= 1 && xf + 2 < w && yf >= 1 && yf + 2 < h) {
        const p0 = (yf - 1) * stride + (xf - 1) * 3, p1 = p0 + stride, p2 = p1 + stride, p3 = p2 + stride;
        for (let ch = 0; ch < 3; ch++) {
          const q0 = p0 + ch, q1 = p1 + ch, q2 = p2 + ch, q3 = p3 + ch;
          const v1 = cubic(src[q0], src[q0 + 3], src[q0 + 6], src[q0 + 9], dx);
          const v2 = cubic(src[q1], src[q1 + 3], src[q1 + 6], src[q1 + 9], dx);
          const v3 = cubic(src[q2], src[q2 + 3], src[q2 + 6], src[q2 + 9], dx);
          const v4 = cubic(src[q3], src[q3 + 3], src[q3 + 6], src[q3 + 9], dx);
          out[o + ch] = clipTrunc(cubic(v1, v2, v3, v4, dy));
        }
      } else {
        bicubicAt(src, w, h, xin, yin, out, o);
      }
    }
  }
}

function clampX(x: number, w: number): number {
  return x < 0 ? 0 : x < w ? x : w - 1;
}

function bilinearAt(src: Uint8Array, w: number, h: number, xin: number, yin: number, out: Uint8Array, o: number): void {
  xin -= 0.5;
  yin -= 0.5;
  const x = Math.floor(xin);
  const y = Math.floor(yin);
  const dx = xin - x;
  const dy = yin - y;
  const x0 = clampX(x, w) * 3;
  const x1 = clampX(x + 1, w) * 3;
  const row0 = clampX(y, h) * w * 3;
  const hasRow1 = y + 1 >= 0 && y + 1 < h;
  const row1 = (y + 1) * w * 3;
  for (let ch = 0; ch < 3; ch++) {
    const a0 = src[row0 + x0 + ch], a1 = src[row0 + x1 + ch];
    const v1 = a0 + (a1 - a0) * dx;
    let v2 = v1;
    if (hasRow1) {
      const b0 = src[row1 + x0 + ch], b1 = src[row1 + x1 + ch];
      v2 = b0 + (b1 - b0) * dx;
    }
    const v = v1 + (v2 - v1) * dy;
    out[o + ch] = Math.trunc(v);
  }
}

/** Pillow's affine cubic (a = -1) through four samples at offset d in [0, 1). */
function cubic(v1: number, v2: number, v3: number, v4: number, d: number): number {
  const p1 = v2;
  const p2 = -v1 + v3;
  const p3 = 2 * (v1 - v2) + v3 - v4;
  const p4 = -v1 + v2 - v3 + v4;
  return p1 + d * (p2 + d * (p3 + d * p4));
}

function bicubicAt(src: Uint8Array, w: number, h: number, xin: number, yin: number, out: Uint8Array, o: number): void {
  xin -= 0.5;
  yin -= 0.5;
  let x = Math.floor(xin);
  let y = Math.floor(yin);
  const dx = xin - x;
  const dy = yin - y;
  const stride = w * 3;
  // Exact shortcuts: with a zero offset the cubic returns its second sample unchanged
  // (p1 + 0 * (...) = v2), so shears and translations, whose offsets are zero along one
  // axis, need one interpolation direction only. The sample read is the one Pillow reads.
  if (dy === 0) {
    const row = y * stride; // y = floor(yin) lies inside the image when dy is 0
    if (dx === 0) {
      const p = row + x * 3;
      out[o] = src[p];
      out[o + 1] = src[p + 1];
      out[o + 2] = src[p + 2];
      return;
    }
    const x0 = clampX(x - 1, w) * 3, x1 = clampX(x, w) * 3, x2 = clampX(x + 1, w) * 3, x3 = clampX(x + 2, w) * 3;
    for (let ch = 0; ch < 3; ch++) {
      const r = row + ch;
      const v = cubic(src[r + x0], src[r + x1], src[r + x2], src[r + x3], dx);
      out[o + ch] = v <= 0 ? 0 : v >= 255 ? 255 : Math.trunc(v);
    }
    return;
  }
  x--;
  y--;
  const x0 = clampX(x, w) * 3, x1 = clampX(x + 1, w) * 3, x2 = clampX(x + 2, w) * 3, x3 = clampX(x + 3, w) * 3;
  const r0 = clampX(y, h) * stride;
  // Rows beyond the image repeat the previous interpolated row (Pillow's edge rule),
  // rather than clamping the row index.
  const ok1 = y + 1 >= 0 && y + 1 < h, ok2 = y + 2 >= 0 && y + 2 < h, ok3 = y + 3 >= 0 && y + 3 < h;
  const r1 = (y + 1) * stride, r2 = (y + 2) * stride, r3 = (y + 3) * stride;
  for (let ch = 0; ch < 3; ch++) {
    let v1: number, v2: number, v3: number, v4: number;
    if (dx === 0) {
      // each row's cubic would return its sample at x + 1
      const c = x1 + ch;
      v1 = src[r0 + c];
      v2 = ok1 ? src[r1 + c] : v1;
      v3 = ok2 ? src[r2 + c] : v2;
      v4 = ok3 ? src[r3 + c] : v3;
    } else {
      v1 = cubic(src[r0 + x0 + ch], src[r0 + x1 + ch], src[r0 + x2 + ch], src[r0 + x3 + ch], dx);
      v2 = ok1 ? cubic(src[r1 + x0 + ch], src[r1 + x1 + ch], src[r1 + x2 + ch], src[r1 + x3 + ch], dx) : v1;
      v3 = ok2 ? cubic(src[r2 + x0 + ch], src[r2 + x1 + ch], src[r2 + x2 + ch], src[r2 + x3 + ch], dx) : v2;
      v4 = ok3 ? cubic(src[r3 + x0 + ch], src[r3 + x1 + ch], src[r3 + x2 + ch], src[r3 + x3 + ch], dx) : v3;
    }
    const v = cubic(v1, v2, v3, v4, dy);
    out[o + ch] = v <= 0 ? 0 : v >= 255 ? 255 : Math.trunc(v);
  }
}

/**
 * Pillow's Image.rotate(deg) about the centre on the same canvas: counter-clockwise for
 * positive angles. 0 and 180 are exact copies/transposes, as in Pillow (RandAugment's
 * +-30 degrees never reaches Pillow's other shortcut, 90/270 on square images).
 */
export function rotate(img: RgbImage, degrees: number, filter: ResampleFilter, fill: Rgb, into?: Uint8Array): RgbImage {
  const angle = ((degrees % 360) + 360) % 360; // Python's % keeps the divisor's sign
  if (angle === 0) {
    const out = outputBuffer(img, into, 'rotate', true);
    if (out !== img.data) out.set(img.data);
    return { width: img.width, height: img.height, data: out };
  }
  if (angle === 180) return transpose180(img, outputBuffer(img, into, 'rotate', false));
  const { width: w, height: h } = img;
  const rad = -(angle * (Math.PI / 180)); // math.radians multiplies by pi/180
  // Pillow rounds the matrix to 15 decimals so that exact angles give exact zeros.
  const cos = pyRoundDigits(Math.cos(rad), 15);
  const sin = pyRoundDigits(Math.sin(rad), 15);
  const cx = w / 2, cy = h / 2;
  const a = cos, b = sin, d = -sin, e = cos;
  const c = a * -cx + b * -cy + cx;
  const f = d * -cx + e * -cy + cy;
  return affine(img, [a, b, c, d, e, f], filter, fill, { into });
}

function transpose180(img: RgbImage, out: Uint8Array): RgbImage {
  const s = img.data;
  const n = s.length / 3;
  for (let p = 0; p < n; p++) {
    const q = n - 1 - p;
    out[q * 3] = s[p * 3];
    out[q * 3 + 1] = s[p * 3 + 1];
    out[q * 3 + 2] = s[p * 3 + 2];
  }
  return { width: img.width, height: img.height, data: out };
}

/** Output (x, y) samples input (x + k*y, y). */
export function shearX(img: RgbImage, k: number, filter: ResampleFilter, fill: Rgb, into?: Uint8Array): RgbImage {
  return affine(img, [1, k, 0, 0, 1, 0], filter, fill, { into });
}

/** Output (x, y) samples input (x, k*x + y). */
export function shearY(img: RgbImage, k: number, filter: ResampleFilter, fill: Rgb, into?: Uint8Array): RgbImage {
  return affine(img, [1, 0, 0, k, 1, 0], filter, fill, { into });
}

/** Shift by a fraction of the width: positive moves the content left. */
export function translateXRel(img: RgbImage, pct: number, filter: ResampleFilter, fill: Rgb, into?: Uint8Array): RgbImage {
  return affine(img, [1, 0, pct * img.width, 0, 1, 0], filter, fill, { into });
}

/** Shift by a fraction of the height: positive moves the content up. */
export function translateYRel(img: RgbImage, pct: number, filter: ResampleFilter, fill: Rgb, into?: Uint8Array): RgbImage {
  return affine(img, [1, 0, 0, 0, 1, pct * img.height], filter, fill, { into });
}
