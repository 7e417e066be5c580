// RandAugment: config parsing (with timm's quirks), the draw order of one op application,
// magnitude clipping, op selection with replacement, and what the ops do to pixels in
// cases whose answer is known without Pillow. The goldens pin each op bit for bit.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  parseRandAugment, augmentOp, noisyMagnitude, RandAugment, INCREASING_OPS, IN_PLACE_OPS, LEVEL_FNS, applyOp, fillFromMean, type OpSettings,
} from '../../src/data/transforms/randaugment.ts';
import { ReplaySource } from '../../src/data/transforms/random-source.ts';
import { affine } from '../../src/data/transforms/geometric.ts';
import { applyLut } from '../../src/data/transforms/point.ts';
import { smooth, blend, greyscale, sharpness, color } from '../../src/data/transforms/enhance.ts';
import { IMAGENET_MEAN } from '../../src/data/transforms/normalize.ts';
import { filledImage, makeImage } from '../../src/data/transforms/image.ts';
import { Rng } from '../../src/util/rng.ts';
import { randomImage, testImage } from './helpers.ts';

const FILL = fillFromMean(IMAGENET_MEAN);
const settings = (over: Partial<OpSettings> = {}): OpSettings => ({
  prob: 0.5, magnitude: 7, magnitudeStd: 0.5, magnitudeMax: null, resampleChoices: ['bilinear', 'bicubic'], fill: FILL, ...over,
});

test('the RSB config string and its defaults', () => {
  assert.deepEqual(parseRandAugment('rand-m7-mstd0.5-inc1'), {
    magnitude: 7, numOps: 2, prob: 0.5, magnitudeStd: 0.5, magnitudeMax: null, increasing: true,
  });
  assert.deepEqual(parseRandAugment('rand-m6-mstd0.5-inc1').magnitude, 6);
});

test('every key, mstd > 100 meaning uniform, and inc0 still selecting the increasing set', () => {
  assert.deepEqual(parseRandAugment('rand-m9-n3-p1-mstd101-mmax8-inc0'), {
    magnitude: 9, numOps: 3, prob: 1, magnitudeStd: Infinity, magnitudeMax: 8, increasing: true,
  });
  // sections without a digit are skipped, as timm's split leaves them keyless
  assert.equal(parseRandAugment('rand-m5-foo-inc1').magnitude, 5);
});

test('bad config strings are refused with the string and the section named', () => {
  assert.throws(() => parseRandAugment('augmix-m7'), /'augmix-m7': must start with 'rand'/);
  assert.throws(() => parseRandAugment('rand-m7-x3-inc1'), /unknown section 'x3'/);
  assert.throws(() => parseRandAugment('rand-m7.5-inc1'), /'m7\.5' needs an integer/);
  assert.throws(() => parseRandAugment('rand-m7'), /only the increasing op set/);
});

test('fill colour is round(255 * ImageNet mean) = (124, 116, 104)', () => {
  assert.deepEqual(FILL, [124, 116, 104]);
});

test('draw order: a skipped op draws once; a plain op twice; a signed op three times; a geometric op four', () => {
  const img = testImage(16, 12);
  const skip = new ReplaySource([{ fn: 'random', value: 0.9 }]);
  const r0 = augmentOp(img, 'Rotate', settings(), skip);
  assert.equal(r0.applied, false);
  assert.equal(r0.image, img);
  assert.equal(skip.used, 1);

  const plain = new ReplaySource([{ fn: 'random', value: 0.5 }, { fn: 'gauss', value: 0 }]);
  assert.equal(augmentOp(img, 'Invert', settings(), plain).applied, true, 'u <= prob applies');
  assert.equal(plain.remaining, 0);

  const signed = new ReplaySource([{ fn: 'random', value: 0.1 }, { fn: 'gauss', value: 1 }, { fn: 'random', value: 0.51 }]);
  const r2 = augmentOp(img, 'ColorIncreasing', settings(), signed);
  assert.equal(r2.magnitude, 7.5);
  assert.ok(Math.abs(r2.args[0] - (1 - 0.675)) < 1e-12, 'u > 0.5 negates');

  const geo = new ReplaySource([{ fn: 'random', value: 0.1 }, { fn: 'gauss', value: -2 }, { fn: 'random', value: 0.2 }, { fn: 'choice', value: 1 }]);
  const r3 = augmentOp(img, 'ShearX', settings(), geo);
  assert.equal(r3.resample, 'bicubic');
  assert.ok(Math.abs(r3.args[0] - 0.18) < 1e-12);
});

test('the noisy magnitude is clipped to [0, 10] or [0, mmax]; mstd inf draws uniform in [0, M]', () => {
  const g = (z: number) => new ReplaySource([{ fn: 'gauss', value: z }]);
  assert.equal(noisyMagnitude(settings(), g(20)), 10);
  assert.equal(noisyMagnitude(settings(), g(-20)), 0);
  assert.equal(noisyMagnitude(settings({ magnitudeMax: 8 }), g(3)), 8);
  assert.equal(noisyMagnitude(settings({ magnitudeStd: Infinity }), new ReplaySource([{ fn: 'uniform', value: 0.5 }])), 3.5);
  assert.equal(noisyMagnitude(settings({ magnitudeStd: 0 }), new ReplaySource([])), 7);
});

test('magnitude -> argument maps at M = 7 without noise (spec table)', () => {
  const plus = () => new ReplaySource([{ fn: 'random', value: 0.1 }]);
  const close = (a: number[], b: number[]) => a.every((v, k) => Math.abs(v - b[k]) < 1e-12);
  assert.ok(close(LEVEL_FNS.Rotate!(7, plus()), [21]));
  assert.deepEqual(LEVEL_FNS.PosterizeIncreasing!(7, plus()), [2]);
  assert.deepEqual(LEVEL_FNS.PosterizeIncreasing!(7.5, plus()), [1]);
  assert.deepEqual(LEVEL_FNS.SolarizeIncreasing!(7, plus()), [77]);
  assert.deepEqual(LEVEL_FNS.SolarizeAdd!(7, plus()), [77]);
  assert.ok(close(LEVEL_FNS.BrightnessIncreasing!(7, plus()), [1.63]));
  assert.ok(close(LEVEL_FNS.ShearY!(7, plus()), [0.21]));
  assert.ok(close(LEVEL_FNS.TranslateYRel!(7, plus()), [0.315]));
  // the enhance factor never goes below 0.1
  assert.deepEqual(LEVEL_FNS.ContrastIncreasing!(10, new ReplaySource([{ fn: 'random', value: 0.9 }])), [0.1]);
});

test('ops are drawn uniformly with replacement', () => {
  const ra = new RandAugment('rand-m7-mstd0.5-inc1', { fill: FILL, resampleChoices: ['bilinear'] });
  const counts = new Map<number, number>();
  let repeats = 0;
  const n = 3000;
  for (let k = 0; k < n; k++) {
    const rng = new Rng(3, k);
    const a = rng.randint(0, 14), b = rng.randint(0, 14);
    counts.set(a, (counts.get(a) ?? 0) + 1);
    counts.set(b, (counts.get(b) ?? 0) + 1);
    if (a === b) repeats++;
  }
  assert.equal(counts.size, INCREASING_OPS.length);
  for (const c of counts.values()) assert.ok(Math.abs(c - (2 * n) / 15) < 5 * Math.sqrt((2 * n) / 15), `count ${c}`);
  assert.ok(Math.abs(repeats / n - 1 / 15) < 0.02, 'the same op twice in about 1 image in 15');
  // and RandAugment.apply itself is deterministic for a given stream
  const img = testImage(32, 24);
  assert.deepEqual(ra.apply(img, new Rng(4, 1)).data, ra.apply(img, new Rng(4, 1)).data);
});

test('posterize at magnitude 10 gives a black image; 8 bits is the identity', () => {
  const img = randomImage(8, 8);
  const bits = LEVEL_FNS.PosterizeIncreasing!(10, new ReplaySource([]));
  assert.deepEqual(bits, [0]);
  assert.ok(applyOp(img, 'PosterizeIncreasing', bits, 'bilinear', FILL).data.every((v) => v === 0));
  assert.deepEqual(applyOp(img, 'PosterizeIncreasing', [8], 'bilinear', FILL).data, img.data);
});

test('point ops against their definitions', () => {
  const img = makeImage(256, 1);
  for (let v = 0; v < 256; v++) img.data.fill(v, v * 3, v * 3 + 3);
  const at = (op: Parameters<typeof applyOp>[1], args: number[]) => Array.from(applyOp(img, op, args, 'bilinear', FILL).data.filter((_, k) => k % 3 === 0));
  const ramp = Array.from({ length: 256 }, (_, v) => v);
  assert.deepEqual(at('Invert', []), ramp.map((v) => 255 - v));
  assert.deepEqual(at('SolarizeIncreasing', [77]), ramp.map((v) => (v >= 77 ? 255 - v : v)));
  assert.deepEqual(at('SolarizeAdd', [77]), ramp.map((v) => (v < 128 ? Math.min(255, v + 77) : v)));
  assert.deepEqual(at('PosterizeIncreasing', [2]), ramp.map((v) => v & 0xc0));
  assert.deepEqual(at('AutoContrast', []), ramp, 'a full ramp is already stretched');
  assert.deepEqual(at('Equalize', []), ramp, 'a flat histogram is already equalised');
});

test('enhance ops: factor 1 is the identity, brightness 0 is black, grey images have no colour to change', () => {
  const img = randomImage(12, 9);
  for (const op of ['ColorIncreasing', 'ContrastIncreasing', 'BrightnessIncreasing', 'SharpnessIncreasing'] as const) {
    assert.deepEqual(applyOp(img, op, [1], 'bilinear', FILL).data, img.data, op);
  }
  assert.ok(applyOp(img, 'BrightnessIncreasing', [0], 'bilinear', FILL).data.every((v) => v === 0));
  const grey = filledImage(6, 5, [90, 90, 90]);
  assert.deepEqual(applyOp(grey, 'ColorIncreasing', [1.9], 'bilinear', FILL).data, grey.data);
  assert.deepEqual(applyOp(grey, 'ContrastIncreasing', [1.9], 'bilinear', FILL).data, grey.data);
  // brightness 1.5 on 100 is 150 exactly, on 200 saturates
  const two = makeImage(2, 1, new Uint8Array([100, 100, 100, 200, 200, 200]));
  assert.deepEqual(Array.from(applyOp(two, 'BrightnessIncreasing', [1.5], 'bilinear', FILL).data), [150, 150, 150, 255, 255, 255]);
});

test('geometric ops: whole-pixel translation is an exact shift with the fill colour behind', () => {
  const img = randomImage(20, 10);
  for (const f of ['bilinear', 'bicubic'] as const) {
    // 0.25 * 20 = 5 pixels: output x samples input x + 5
    const out = applyOp(img, 'TranslateXRel', [0.25], f, FILL).data;
    for (let y = 0; y < 10; y++) for (let x = 0; x < 20; x++) for (let c = 0; c < 3; c++) {
      const want = x + 5 < 20 ? img.data[(y * 20 + x + 5) * 3 + c] : FILL[c];
      assert.equal(out[(y * 20 + x) * 3 + c], want, `${f} (${x},${y},${c})`);
    }
    assert.deepEqual(applyOp(img, 'ShearX', [0], f, FILL).data, img.data, 'shear 0');
    assert.deepEqual(applyOp(img, 'Rotate', [0], f, FILL).data, img.data, 'rotate 0');
  }
});

test('rotation by 90 degrees on a square image moves every pixel exactly (counter-clockwise)', () => {
  const n = 9;
  const img = randomImage(n, n, 7);
  const out = applyOp(img, 'Rotate', [90], 'bilinear', FILL).data;
  // counter-clockwise: output (x, y) shows input (n-1-y, x)
  for (let y = 0; y < n; y++) for (let x = 0; x < n; x++) {
    assert.equal(out[(y * n + x) * 3], img.data[(x * n + (n - 1 - y)) * 3], `(${x},${y})`);
  }
  const half = applyOp(img, 'Rotate', [180], 'bicubic', FILL).data;
  assert.equal(half[0], img.data[(n * n - 1) * 3]);
});

test('every affine fast path (column-exact, row-constant, general) equals the plain per-pixel loop bit for bit', () => {
  const rng = new Rng(21);
  // tiny images put every pixel on an edge; larger ones exercise the clamp-free interior
  const sizes: [number, number][] = [[1, 1], [2, 3], [3, 2], [4, 5], [37, 29], [64, 48]];
  let cases = 0;
  for (const [w, h] of sizes) {
    const img = randomImage(w, h, w * 100 + h);
    for (let k = 0; k < 12; k++) {
      const deg = rng.uniform(-30, 30), rad = (deg * Math.PI) / 180;
      const k1 = rng.uniform(-0.3, 0.3), tx = rng.uniform(-0.45, 0.45) * w, ty = rng.uniform(-0.45, 0.45) * h;
      const matrices: (readonly [number, number, number, number, number, number])[] = [
        [1, k1, 0, 0, 1, 0], // ShearX (row-constant, zero vertical offset)
        [1, 0, 0, k1, 1, 0], // ShearY (column-exact)
        [1, 0, tx, 0, 1, 0], // TranslateX
        [1, 0, 0, 0, 1, ty], // TranslateY
        [1, 0, Math.round(tx), 0, 1, Math.round(ty)], // whole-pixel shifts hit the zero-offset shortcuts
        [rng.uniform(0.5, 1.5), rng.uniform(-0.4, 0.4), rng.uniform(-12, 12), 0, rng.uniform(0.7, 1.3), rng.uniform(-9, 9)],
        [Math.cos(rad), Math.sin(rad), rng.uniform(-5, 5), -Math.sin(rad), Math.cos(rad), rng.uniform(-5, 5)], // Rotate
      ];
      for (const m of matrices) {
        for (const f of ['bilinear', 'bicubic'] as const) {
          assert.deepEqual(affine(img, m, f, FILL).data, affine(img, m, f, FILL, { general: true }).data, `${w}x${h} ${f} ${m.join(',')}`);
          cases++;
        }
      }
    }
  }
  assert.equal(cases, sizes.length * 12 * 7 * 2);
});

test('SMOOTH in integers equals Pillow\'s float32 accumulation on random images', () => {
  const f = Math.fround, k1 = f(1 / 13), k5 = f(5 / 13);
  for (let seed = 0; seed < 4; seed++) {
    const img = randomImage(23, 17, 40 + seed);
    const got = smooth(img);
    const d = img.data, stride = 23 * 3;
    for (let y = 1; y < 16; y++) for (let x = 1; x < 22; x++) for (let c = 0; c < 3; c++) {
      const p = y * stride + x * 3 + c, b = p + stride, a = p - stride;
      const row = (q: number, mid: number) => f(f(f(d[q - 3] * k1) + f(d[q] * mid)) + f(d[q + 3] * k1));
      const ss = f(f(f(0.5 + row(b, k1)) + row(p, k5)) + row(a, k1));
      assert.equal(got[p], Math.max(0, Math.min(255, Math.trunc(ss))), `(${x},${y},${c})`);
    }
    // the border is copied
    assert.deepEqual(got.subarray(0, stride), d.subarray(0, stride));
  }
});

test('the fused Color and Sharpness passes equal blend() with the greyscale / SMOOTH image', () => {
  for (const [w, h] of [[1, 1], [2, 5], [3, 3], [41, 23]] as const) {
    const img = randomImage(w, h, w + 7 * h);
    for (const factor of [0, 0.1, 0.37, 1, 1.63, 1.9]) {
      assert.deepEqual(color(img, factor).data, blend(greyscale(img), img, factor).data, `color ${w}x${h} ${factor}`);
      assert.deepEqual(sharpness(img, factor).data, blend(smooth(img), img, factor).data, `sharpness ${w}x${h} ${factor}`);
    }
  }
});

test('table lookups and histograms read 32-bit words where aligned and agree with a byte loop everywhere', () => {
  const rng = new Rng(31);
  const tables = [0, 1, 2].map(() => Uint8Array.from({ length: 256 }, () => rng.randint(0, 255))) as [Uint8Array, Uint8Array, Uint8Array];
  for (const [w, h] of [[1, 1], [3, 1], [4, 1], [5, 3], [41, 23]] as const) {
    // values in 40..189, so AutoContrast has a range to stretch
    const img = makeImage(w, h, randomImage(w, h, w * 13 + h).data.map((v) => 40 + (v % 150)));
    // the same pixels at byte offset 1 of a bigger buffer: the word path cannot be used
    const shifted = new Uint8Array(img.data.length + 1).fill(7);
    shifted.set(img.data, 1);
    const unaligned = makeImage(w, h, shifted.subarray(1));
    const want = img.data.map((v, p) => tables[p % 3][v]);
    assert.deepEqual(applyLut(img, tables).data, want, `${w}x${h} aligned`);
    assert.deepEqual(applyLut(unaligned, tables).data, want, `${w}x${h} unaligned`);
    assert.deepEqual(applyLut(img, tables[1]).data, img.data.map((v) => tables[1][v]), `${w}x${h} one table`);
    for (const op of ['AutoContrast', 'Equalize'] as const) {
      assert.deepEqual(applyOp(unaligned, op, [], 'bilinear', FILL).data, applyOp(img, op, [], 'bilinear', FILL).data, `${op} ${w}x${h}`);
    }
  }
});

test('every op gives the same bytes into a supplied buffer, and over its own input where allowed', () => {
  const img = testImage(29, 21, 3);
  const args: Partial<Record<(typeof INCREASING_OPS)[number], number[]>> = {
    Rotate: [17.5], PosterizeIncreasing: [3], SolarizeIncreasing: [100], SolarizeAdd: [50], ColorIncreasing: [1.6],
    ContrastIncreasing: [0.4], BrightnessIncreasing: [1.3], SharpnessIncreasing: [1.8], ShearX: [0.2], ShearY: [-0.2],
    TranslateXRel: [0.3], TranslateYRel: [-0.25],
  };
  for (const op of INCREASING_OPS) {
    for (const f of ['bilinear', 'bicubic'] as const) {
      const want = applyOp(img, op, args[op] ?? [], f, FILL).data;
      const into = new Uint8Array(img.data.length).fill(200);
      assert.deepEqual(applyOp(img, op, args[op] ?? [], f, FILL, into).data, want, `${op} ${f} into a buffer`);
      const copy = makeImage(img.width, img.height, img.data.slice());
      if (IN_PLACE_OPS.has(op)) {
        const res = applyOp(copy, op, args[op] ?? [], f, FILL, copy.data);
        assert.equal(res.data, copy.data);
        assert.deepEqual(res.data, want, `${op} ${f} in place`);
      } else {
        assert.throws(() => applyOp(copy, op, args[op] ?? [], f, FILL, copy.data), /cannot write over its own input/, op);
      }
    }
  }
});

test('RandAugment in place gives the same images as the allocating path, which leaves its input alone', () => {
  const ra = new RandAugment('rand-m9-n3-p0.9-mstd0.5-inc1', { fill: FILL, resampleChoices: ['bilinear', 'bicubic'] });
  for (const [w, h] of [[24, 18], [31, 31]] as const) {
    const img = testImage(w, h, w);
    const before = img.data.slice();
    for (let k = 0; k < 150; k++) {
      const want = ra.apply(img, new Rng(5, k));
      const copy = makeImage(w, h, img.data.slice());
      const got = ra.apply(copy, new Rng(5, k), { inPlace: true });
      assert.equal(got.data, copy.data, 'the result is in the input buffer');
      assert.deepEqual(got.data, want.data, `${w}x${h} draw ${k}`);
    }
    assert.deepEqual(img.data, before);
  }
});
