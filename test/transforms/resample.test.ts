// The antialiased resize against an independent float reference (the textbook separable
// convolution with a widened kernel, no fixed point), plus exactness properties. The
// goldens (eval_transform) pin the Pillow port bit for bit; this shows the maths is right
// in general, for shrinking and enlarging, with either filter.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resizeCrop, resize, coefficients, type ResampleFilter } from '../../src/data/transforms/resample.ts';
import { filledImage, makeImage, type RgbImage } from '../../src/data/transforms/image.ts';
import { testImage, randomImage, meanAbsDiff, maxAbsDiff } from './helpers.ts';

const kernels: Record<ResampleFilter, [number, (x: number) => number]> = {
  bilinear: [1, (x) => Math.max(0, 1 - Math.abs(x))],
  bicubic: [2, (x) => {
    x = Math.abs(x);
    const a = -0.5;
    return x < 1 ? (a + 2) * x ** 3 - (a + 3) * x ** 2 + 1 : x < 2 ? a * x ** 3 - 5 * a * x ** 2 + 8 * a * x - 4 * a : 0;
  }],
};

/** Weights of output pixel `o` over input pixels, normalised, support widened when shrinking. */
function refWeights(inSize: number, outSize: number, filter: ResampleFilter, o: number): Map<number, number> {
  const [support, k] = kernels[filter];
  const scale = inSize / outSize;
  const widen = Math.max(1, scale);
  const centre = (o + 0.5) * scale; // continuous coordinate of the output pixel centre
  const m = new Map<number, number>();
  let total = 0;
  for (let i = 0; i < inSize; i++) {
    const w = k((i + 0.5 - centre) / widen);
    if (w !== 0 && Math.abs(i + 0.5 - centre) < support * widen) {
      m.set(i, w);
      total += w;
    }
  }
  for (const [i, w] of m) m.set(i, w / total);
  return m;
}

/** Float separable resize with one rounding per pass (as an 8-bit intermediate has). */
function reference(src: RgbImage, outW: number, outH: number, filter: ResampleFilter): Uint8Array {
  const clip = (v: number) => Math.max(0, Math.min(255, Math.round(v)));
  const mid = new Float64Array(outW * src.height * 3);
  for (let x = 0; x < outW; x++) {
    const w = refWeights(src.width, outW, filter, x);
    for (let y = 0; y < src.height; y++) for (let c = 0; c < 3; c++) {
      let s = 0;
      for (const [i, k] of w) s += src.data[(y * src.width + i) * 3 + c] * k;
      mid[(y * outW + x) * 3 + c] = clip(s);
    }
  }
  const out = new Uint8Array(outW * outH * 3);
  for (let y = 0; y < outH; y++) {
    const w = refWeights(src.height, outH, filter, y);
    for (let x = 0; x < outW; x++) for (let c = 0; c < 3; c++) {
      let s = 0;
      for (const [i, k] of w) s += mid[(i * outW + x) * 3 + c] * k;
      out[(y * outW + x) * 3 + c] = clip(s);
    }
  }
  return out;
}

for (const filter of ['bilinear', 'bicubic'] as const) {
  for (const [w, h, ow, oh] of [[90, 70, 33, 29], [40, 30, 77, 61], [50, 50, 50, 20]]) {
    test(`${filter} ${w}x${h} -> ${ow}x${oh} matches the float reference within 1 level`, () => {
      const src = randomImage(w, h, w + h);
      const got = resize(src, ow, oh, filter);
      const want = reference(src, ow, oh, filter);
      // Fixed-point weights (22 bits) can flip a rounding: at most one level, rarely.
      assert.ok(maxAbsDiff(got.data, want) <= 1, `max diff ${maxAbsDiff(got.data, want)}`);
      assert.ok(meanAbsDiff(got.data, want) < 0.05);
    });
  }
}

test('weights of every output pixel sum to 1 in fixed point (within rounding)', () => {
  for (const [i, o] of [[375, 224], [120, 224], [313, 235]]) {
    const c = coefficients(i, o, 'bicubic');
    for (let x = 0; x < o; x++) {
      let s = 0;
      for (let t = 0; t < c.bounds[x * 2 + 1]; t++) s += c.weights[x * c.ksize + t];
      assert.ok(Math.abs(s - (1 << 22)) <= c.ksize, `pixel ${x}: ${s}`);
    }
  }
});

test('a crop box resizes like cropping first, then resizing (torchvision resized_crop)', () => {
  const src = testImage(120, 90);
  const box = { i: 13, j: 21, h: 50, w: 70 };
  const crop = makeImage(box.w, box.h);
  for (let y = 0; y < box.h; y++) crop.data.set(src.data.subarray(((box.i + y) * 120 + box.j) * 3, ((box.i + y) * 120 + box.j + box.w) * 3), y * box.w * 3);
  for (const f of ['bilinear', 'bicubic'] as const) {
    assert.deepEqual(resizeCrop(src, box, 32, 24, f).data, resize(crop, 32, 24, f).data);
    // and with only one of the two passes needed
    assert.deepEqual(resizeCrop(src, box, 70, 24, f).data, resize(crop, 70, 24, f).data);
    assert.deepEqual(resizeCrop(src, box, 32, 50, f).data, resize(crop, 32, 50, f).data);
    assert.deepEqual(resizeCrop(src, box, 70, 50, f).data, crop.data);
  }
});

test('a flat image stays flat at any scale', () => {
  const src = filledImage(37, 23, [200, 17, 90]);
  for (const f of ['bilinear', 'bicubic'] as const) {
    for (const [w, h] of [[224, 224], [5, 3], [37, 100]]) {
      const d = resize(src, w, h, f).data;
      for (let p = 0; p < d.length; p += 3) assert.deepEqual([d[p], d[p + 1], d[p + 2]], [200, 17, 90]);
    }
  }
});

test('a box outside the image is refused with the sizes named', () => {
  assert.throws(() => resizeCrop(testImage(10, 10), { i: 5, j: 0, h: 6, w: 10 }, 4, 4, 'bilinear'), /not inside the 10x10 image/);
});
