// The 'fast' decoder (libjpeg-turbo's fast IDCT through the optional binding): close to the
// exact decoder on the plain JPEGs it takes, exactly sharp's pixels for every file it hands
// back (CMYK, PNG behind .JPEG, EXIF rotation, ICC, very high quality, broken files), the same
// random draws as 'exact', and switched off by RSB_JPEG_TURBO=0. Tests that need the binding
// are skipped where it is not installed (it is an optional dependency).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import { decodeFast, fastDecoderStatus, FAST_MIN_QUANT_MEAN, fastDecodeRefusal } from '../../src/data/transforms/decode-fast.ts';
import { readJpegHeader } from '../../src/data/transforms/jpeg-header.ts';
import { decodeRgb } from '../../src/data/transforms/decode.ts';
import { trainImage, evalImage, trainOptions, evalOptions } from '../../src/data/transforms/index.ts';
import type { RandomSource } from '../../src/data/transforms/random-source.ts';
import { makeImage, type RgbImage } from '../../src/data/transforms/image.ts';
import { JPEG_TURBO_ENV } from '../../src/engine/fingerprint.ts';
import { Rng } from '../../src/util/rng.ts';
import { meanAbsDiff, maxAbsDiff } from './helpers.ts';

const skip = fastDecoderStatus().available ? false : `libjpeg-turbo binding not available (${fastDecoderStatus().detail})`;

/** Photo-like: gradients, a disc, texture and +-12 levels of noise (noise is where the IDCTs differ most). */
function photo(width: number, height: number, seed: number): RgbImage {
  const rng = new Rng(seed, 77);
  const img = makeImage(width, height);
  const cx = rng.uniform(0.2, 0.8) * width, cy = rng.uniform(0.2, 0.8) * height, r = rng.uniform(0.15, 0.35) * height;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const p = (y * width + x) * 3;
      const inside = (x - cx) ** 2 + (y - cy) ** 2 < r * r;
      const tex = 24 * Math.sin(x / (3 + (seed % 5))) * Math.cos(y / 7);
      for (let c = 0; c < 3; c++) {
        const v = (inside ? 190 - 40 * c : 50 + 30 * c) + (c === 0 ? x : c === 1 ? y : x + y) * 0.2 + tex + rng.uniform(-12, 12);
        img.data[p + c] = Math.max(0, Math.min(255, Math.round(v)));
      }
    }
  }
  return img;
}

const raw = (img: RgbImage) => sharp(img.data, { raw: { width: img.width, height: img.height, channels: 3 } });

/** A RandomSource that records every draw, to compare the draws of two decoders. */
function recording(inner: RandomSource): { rng: RandomSource; log: string[] } {
  const log: string[] = [];
  const rec = <T>(name: string, v: T): T => { log.push(`${name}=${JSON.stringify(v)}`); return v; };
  const rng: RandomSource = {
    random: () => rec('random', inner.random()),
    uniform: (a, b) => rec('uniform', inner.uniform(a, b)),
    randint: (a, b) => rec('randint', inner.randint(a, b)),
    gauss: (m, s) => rec('gauss', inner.gauss(m, s)),
    choice: (xs) => rec('choice', inner.choice(xs)),
  };
  return { rng, log };
}

// Why these bounds: libjpeg's fast IDCT ("ifast", AAN) keeps 2 fractional bits on the
// dequantised coefficients and truncates the products of its 8-bit-fraction multipliers, so
// each output sample of Y, Cb and Cr carries an error of about +-1 level, and more where the
// quantisation steps are small (q > ~96 is therefore refused: FAST_MIN_QUANT_MEAN). Colour
// conversion adds up to 1.4 Cr (R) and 1.77 Cb (B) to Y, and 4:2:0 upsampling spreads a chroma
// error over 2x2 pixels, so per RGB value the errors add to a few levels at worst. Measured on
// 500x375 pictures at q75-96: max 10, mean 1.0-1.2 (about a third of values exact, 40 % off by
// 1). Bounds with a margin: max <= 12, mean <= 1.5; greyscale has no chroma, so it is tighter.
const cases: { name: string; make: (img: RgbImage) => Promise<Buffer>; max: number; mean: number }[] = [
  { name: '4:2:0 q90', make: (i) => raw(i).jpeg({ quality: 90 }).toBuffer(), max: 12, mean: 1.5 },
  { name: '4:4:4 q95', make: (i) => raw(i).jpeg({ quality: 95, chromaSubsampling: '4:4:4' }).toBuffer(), max: 12, mean: 1.5 },
  { name: 'progressive q85', make: (i) => raw(i).jpeg({ quality: 85, progressive: true }).toBuffer(), max: 12, mean: 1.5 },
  { name: 'greyscale q90', make: (i) => raw(i).toColourspace('b-w').jpeg({ quality: 90 }).toBuffer(), max: 6, mean: 0.8 },
];

for (const c of cases) {
  test(`fast decode of a ${c.name} JPEG is within max ${c.max} / mean ${c.mean} of the exact one`, { skip }, async () => {
    for (const seed of [1, 2, 3]) {
      const bytes = await c.make(photo(240 + 16 * seed, 180 - 8 * seed, seed));
      assert.equal(fastDecodeRefusal(readJpegHeader(bytes)), null, 'takes the fast path');
      const fast = decodeFast(bytes, { keep: true });
      const exact = await decodeRgb(bytes);
      assert.ok(fast, 'decoded');
      assert.deepEqual([fast.width, fast.height], [exact.width, exact.height]);
      const max = maxAbsDiff(fast.data, exact.data), mean = meanAbsDiff(fast.data, exact.data);
      assert.ok(max <= c.max && mean <= c.mean, `seed ${seed}: max ${max}, mean ${mean.toFixed(3)}`);
      assert.ok(max > 0, 'the fast IDCT is in use (pixels not identical to the accurate one)');
      if (c.name.startsWith('grey')) {
        for (let p = 0; p < fast.data.length; p += 3) assert.ok(fast.data[p] === fast.data[p + 1] && fast.data[p] === fast.data[p + 2], 'grey replicated to RGB');
      }
    }
  });
}

test('the quantisation gate: q96 takes the fast path, q98 and q100 go to sharp', async () => {
  const img = photo(64, 48, 4);
  const mean = async (q: number) => Math.min(...readJpegHeader(await raw(img).jpeg({ quality: q }).toBuffer())!.quantMeans);
  assert.ok((await mean(96)) >= FAST_MIN_QUANT_MEAN);
  assert.ok((await mean(98)) < FAST_MIN_QUANT_MEAN);
  assert.match(fastDecodeRefusal(readJpegHeader(await raw(img).jpeg({ quality: 100 }).toBuffer()))!, /quantisation/);
});

// Files the fast path must hand back: trainImage/evalImage with 'fast' then give exactly sharp's pixels.
const fallbacks: { name: string; make: () => Promise<Buffer>; why: RegExp }[] = [
  { name: 'CMYK JPEG', make: () => raw(photo(96, 72, 5)).toColourspace('cmyk').jpeg({ quality: 90 }).toBuffer(), why: /4 components|Adobe/ },
  { name: 'PNG named .JPEG', make: () => raw(photo(96, 72, 6)).png().toBuffer(), why: /not a plain JPEG/ },
  { name: 'EXIF orientation 6', make: () => raw(photo(96, 72, 7)).jpeg({ quality: 90 }).withMetadata({ orientation: 6 }).toBuffer(), why: /orientation 6/ },
  { name: 'ICC profile', make: () => raw(photo(96, 72, 8)).jpeg({ quality: 90 }).withIccProfile('p3').toBuffer(), why: /ICC/ },
  { name: 'quality 100', make: () => raw(photo(96, 72, 9)).jpeg({ quality: 100 }).toBuffer(), why: /quantisation/ },
];

for (const f of fallbacks) {
  test(`${f.name}: not taken by the fast decoder, and 'fast' gives exactly the exact pixels`, async () => {
    const bytes = await f.make();
    assert.match(fastDecodeRefusal(readJpegHeader(bytes)) ?? 'taken', f.why);
    assert.equal(decodeFast(bytes), null);
    const S = 40;
    for (let k = 0; k < 3; k++) {
      const fast = await trainImage(bytes, trainOptions({ size: S, decoder: 'fast' }), new Rng(11, k));
      const exact = await trainImage(bytes, trainOptions({ size: S, decoder: 'exact' }), new Rng(11, k));
      assert.deepEqual(fast.data, exact.data, `sample ${k}`);
    }
    const e1 = await evalImage(bytes, evalOptions({ size: S, decoder: 'fast' }));
    assert.deepEqual(e1.data, (await evalImage(bytes, evalOptions({ size: S }))).data);
  });
}

test('a truncated JPEG fails with the same DecodeError, naming the file, in both modes', async () => {
  const whole = await raw(photo(120, 90, 10)).jpeg({ quality: 90 }).toBuffer();
  const cut = whole.subarray(0, Math.floor(whole.length * 0.6));
  const what = 'train/n00000001/cut.JPEG';
  const errors: string[] = [];
  for (const decoder of ['exact', 'fast'] as const) {
    await assert.rejects(trainImage(cut, trainOptions({ size: 32, decoder, scale: [1, 1], ratio: [4 / 3, 4 / 3] }), new Rng(1), what), (e: Error) => {
      assert.equal(e.name, 'DecodeError');
      assert.match(e.message, /cut\.JPEG: cannot decode image/);
      errors.push(e.message);
      return true;
    });
  }
  assert.equal(errors[0], errors[1]);
});

test(`with ${JPEG_TURBO_ENV}=0 'fast' decodes with sharp (the exact pixels)`, async () => {
  const bytes = await raw(photo(160, 120, 12)).jpeg({ quality: 90 }).toBuffer();
  const before = process.env[JPEG_TURBO_ENV];
  process.env[JPEG_TURBO_ENV] = '0';
  try {
    assert.equal(decodeFast(bytes), null);
    assert.equal(fastDecoderStatus().available, false);
    assert.match(fastDecoderStatus().detail, /RSB_JPEG_TURBO=0/);
    for (let k = 0; k < 3; k++) {
      const fast = await trainImage(bytes, trainOptions({ size: 48, decoder: 'fast' }), new Rng(13, k));
      const exact = await trainImage(bytes, trainOptions({ size: 48, decoder: 'exact' }), new Rng(13, k));
      assert.deepEqual(fast.data, exact.data);
    }
  } finally {
    if (before === undefined) delete process.env[JPEG_TURBO_ENV];
    else process.env[JPEG_TURBO_ENV] = before;
  }
});

test("'fast' and 'exact' draw the same numbers (crop box, interpolation, flip, RandAugment) and stay close", { skip }, async () => {
  const bytes = await raw(photo(200, 150, 14)).jpeg({ quality: 90 }).toBuffer();
  for (const randAugment of [null, 'rand-m9-mstd0.5-inc1']) {
    for (let k = 0; k < 6; k++) {
      const a = recording(new Rng(15, k));
      const b = recording(new Rng(15, k));
      const fast = await trainImage(bytes, trainOptions({ size: 48, randAugment, decoder: 'fast' }), a.rng);
      const exact = await trainImage(bytes, trainOptions({ size: 48, randAugment, decoder: 'exact' }), b.rng);
      assert.deepEqual(a.log, b.log, `sample ${k}: same draws in the same order`);
      assert.ok(a.log.length >= 3, 'box, interpolation and flip were drawn');
      // The same crop, filter and flip: the outputs differ only by the decoders' small error
      // (RandAugment's thresholds, e.g. Solarize, can turn a level of difference into more).
      if (!randAugment) assert.ok(maxAbsDiff(fast.data, exact.data) <= 12, `sample ${k}`);
    }
  }
});

test("'fast' reuses its buffer safely with several images in flight", { skip }, async () => {
  const files = await Promise.all([1, 2, 3, 4].map((s) => raw(photo(100 + 20 * s, 90, s)).jpeg({ quality: 90 }).toBuffer()));
  const opts = trainOptions({ size: 32, decoder: 'fast' });
  const one = await Promise.all(files.map(async (f, k) => (await trainImage(f, opts, new Rng(16, k))).data));
  const again: Uint8Array[] = [];
  for (const [k, f] of files.entries()) again.push((await trainImage(f, opts, new Rng(16, k))).data);
  assert.deepEqual(one, again);
});
