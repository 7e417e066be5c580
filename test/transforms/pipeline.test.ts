// trainSample / evalSample end to end: sizes, determinism, the decode-first path for
// non-JPEG files, EXIF orientation, shrink-on-load staying close to the full decode, and
// options from the real recipes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import {
  trainSample, evalSample, trainImage, trainOptions, evalOptions, trainOptionsFromRecipe, evalOptionsFromRecipe, decodeRgb, evalTransform,
} from '../../src/data/transforms/index.ts';
import { resize, resizeCrop } from '../../src/data/transforms/resample.ts';
import { rrcParams } from '../../src/data/transforms/rrc.ts';
import { flipHorizontal } from '../../src/data/transforms/flip.ts';
import { a1, a3 } from '../../recipes/index.ts';
import { Rng } from '../../src/util/rng.ts';
import { testImage, toJpeg, meanAbsDiff } from './helpers.ts';

const S = 64;

test('trainSample gives S*S*3 bytes, the same for the same stream and different for another', async () => {
  const jpeg = await toJpeg(testImage(160, 120));
  const opts = trainOptions({ size: S });
  const a = await trainSample(jpeg, opts, new Rng(1, 2, 0, 5));
  const b = await trainSample(jpeg, opts, new Rng(1, 2, 0, 5));
  const c = await trainSample(jpeg, opts, new Rng(1, 2, 0, 6));
  assert.equal(a.length, S * S * 3);
  assert.deepEqual(a, b);
  assert.notDeepEqual(a, c);
});

test('decoding only the crop box gives the same pixels as cropping the full decode', async () => {
  const jpeg = await toJpeg(testImage(200, 150, 4), 90);
  // sharp's region decode ('exact'); the 'fast' decoder is checked in decode-fast.test.ts
  const opts = trainOptions({ size: S, randAugment: null, hflip: 0, interpolation: 'bicubic', shrinkOnLoad: false, decoder: 'exact' });
  for (let k = 0; k < 5; k++) {
    const got = await trainImage(jpeg, opts, new Rng(8, k));
    const box = rrcParams(200, 150, opts.scale, opts.ratio, new Rng(8, k));
    assert.deepEqual(got.data, resizeCrop(await decodeRgb(jpeg), box, S, S, 'bicubic').data, `sample ${k}`);
  }
});

test('hflip 1 gives the mirror of hflip 0 (the flip is done inside the resize)', async () => {
  const jpeg = await toJpeg(testImage(200, 150, 6), 90);
  for (const interpolation of ['bilinear', 'bicubic', 'random'] as const) {
    // the same crop and interpolation draws come first; the flip's own draw is last here
    const plain = trainOptions({ size: S, randAugment: null, hflip: 0, interpolation });
    const flipped = trainOptions({ size: S, randAugment: null, hflip: 1, interpolation });
    for (let k = 0; k < 4; k++) {
      const a = await trainImage(jpeg, plain, new Rng(9, k));
      const b = await trainImage(jpeg, flipped, new Rng(9, k));
      assert.deepEqual(b.data, flipHorizontal(a).data, `${interpolation} sample ${k}`);
    }
  }
});

test('a PNG behind a .JPEG name goes through decode-then-crop and works', async () => {
  const img = testImage(90, 70);
  const png = await sharp(img.data, { raw: { width: 90, height: 70, channels: 3 } }).png().toBuffer();
  const out = await trainSample(png, trainOptions({ size: S }), new Rng(7));
  assert.equal(out.length, S * S * 3);
});

test('the crop is chosen on the displayed (EXIF-rotated) picture', async () => {
  const img = testImage(80, 60);
  const bytes = await sharp(img.data, { raw: { width: 80, height: 60, channels: 3 } }).jpeg({ quality: 95 }).withMetadata({ orientation: 6 }).toBuffer();
  // whole picture (scale 1, its own aspect), no flip, no RandAugment, bilinear: a plain resize of the rotated image
  const opts = trainOptions({ size: 30, scale: [1, 1], ratio: [60 / 80, 60 / 80], hflip: 0, randAugment: null, interpolation: 'bilinear' });
  const got = await trainImage(bytes, opts, new Rng(1));
  const shown = await decodeRgb(bytes);
  assert.deepEqual([shown.width, shown.height], [60, 80]);
  assert.deepEqual(got.data, resize(shown, 30, 30, 'bilinear').data);
});

test('shrink-on-load for a large image stays close to the full-size resample', async () => {
  const big = testImage(1600, 1200, 5);
  const jpeg = await toJpeg(big, 92);
  const opts = trainOptions({ size: S, randAugment: null, hflip: 0, scale: [0.6, 1] });
  const fast = await trainSample(jpeg, opts, new Rng(3));
  const exact = await trainSample(jpeg, { ...opts, shrinkOnLoad: false }, new Rng(3));
  const d = meanAbsDiff(fast, exact);
  assert.ok(d < 3, `mean abs diff ${d}`);
  const e1 = await evalSample(jpeg, evalOptions({ size: S }));
  const e2 = await evalSample(jpeg, evalOptions({ size: S, shrinkOnLoad: false }));
  assert.ok(meanAbsDiff(e1, e2) < 3);
});

test('evalSample equals the eval transform of the decoded picture', async () => {
  const jpeg = await toJpeg(testImage(130, 100));
  const got = await evalSample(jpeg, evalOptions({ size: S, cropPct: 0.95 }));
  assert.deepEqual(got, evalTransform(await decodeRgb(jpeg), S, 0.95, 'bicubic').data);
});

test('options come from the recipes and are validated', () => {
  const t = trainOptionsFromRecipe(a1.train);
  assert.equal(t.size, 224);
  assert.equal(t.randAugment, 'rand-m7-mstd0.5-inc1');
  // training decodes with libjpeg-turbo's fast IDCT by default, evaluation exactly as Pillow
  assert.equal(t.decoder, 'fast');
  assert.equal(trainOptionsFromRecipe(a1.train, { decoder: 'exact' }).decoder, 'exact');
  assert.equal(evalOptionsFromRecipe(a3.eval).decoder, 'exact');
  assert.equal(trainOptionsFromRecipe(a3.train).size, 160);
  const e = evalOptionsFromRecipe(a3.eval);
  assert.deepEqual([e.size, e.cropPct, e.interpolation], [224, 0.95, 'bicubic']);
  assert.throws(() => trainOptions({ size: 0 }), /train transform options: \/size/);
  assert.throws(() => evalOptions({ cropPct: 2 }), /eval transform options: \/cropPct/);
});

test('a bad file names itself in the error', async () => {
  await assert.rejects(trainSample(new Uint8Array(0), trainOptions({ size: S }), new Rng(1), 'train/n01/zero.JPEG'), /zero\.JPEG/);
});
