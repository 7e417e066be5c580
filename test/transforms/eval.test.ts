// Eval transform geometry and normalisation, checked against the written rules.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { evalGeometry, evalResizeSize, evalTransform } from '../../src/data/transforms/eval.ts';
import { normalizeToFloat32, normalizationAffine, IMAGENET_MEAN, IMAGENET_STD } from '../../src/data/transforms/normalize.ts';
import { testImage } from './helpers.ts';

test('resize size is floor(S / crop_pct): 235 for 224 / 0.95, 168 for 160 / 0.95, 256 for 224 / 0.875', () => {
  assert.equal(evalResizeSize(224, 0.95), 235);
  assert.equal(evalResizeSize(160, 0.95), 168);
  assert.equal(evalResizeSize(224, 0.875), 256);
  assert.equal(evalResizeSize(288, 1), 288);
  assert.throws(() => evalResizeSize(224, 1.2), /crop_pct must be in \(0, 1\]/);
});

test('landscape, portrait and square geometry, with round-half-even crop offsets', () => {
  // 400x300: 313x235, (313-224)/2 = 44.5 rounds to 44
  assert.deepEqual(evalGeometry(400, 300, 224, 0.95), { resizeHW: [235, 313], cropTopLeft: [6, 44] });
  // 300x400 portrait: the transpose
  assert.deepEqual(evalGeometry(300, 400, 224, 0.95), { resizeHW: [313, 235], cropTopLeft: [44, 6] });
  assert.deepEqual(evalGeometry(500, 500, 224, 0.95), { resizeHW: [235, 235], cropTopLeft: [6, 6] });
  // 500x375: 235 * 500 / 375 = 313.33 -> 313
  assert.deepEqual(evalGeometry(500, 375, 224, 0.95).resizeHW, [235, 313]);
  // 2.5 rounds to 2 (even), 3.5 to 4
  assert.deepEqual(evalGeometry(400, 400, 224, 0.977).cropTopLeft, [2, 2]); // resized to 229
  assert.deepEqual(evalGeometry(400, 400, 224, 0.9694).cropTopLeft, [4, 4]); // resized to 231
});

test('evalTransform returns S x S', () => {
  const out = evalTransform(testImage(120, 90), 64, 0.875);
  assert.equal(out.width, 64);
  assert.equal(out.height, 64);
  assert.equal(out.data.length, 64 * 64 * 3);
});

test('normalisation is (x/255 - mean)/std in float32 steps, and the affine form agrees', () => {
  const px = new Uint8Array([0, 128, 255, 17, 200, 3]);
  const out = normalizeToFloat32(px);
  const f = Math.fround;
  for (let k = 0; k < px.length; k++) {
    const c = k % 3;
    assert.equal(out[k], f(f(f(px[k] / 255) - f(IMAGENET_MEAN[c])) / f(IMAGENET_STD[c])));
  }
  const { scale, shift } = normalizationAffine();
  for (let k = 0; k < px.length; k++) assert.ok(Math.abs(px[k] * scale[k % 3] + shift[k % 3] - out[k]) < 1e-5);
  assert.throws(() => normalizeToFloat32(new Uint8Array(4)), /not a whole number of RGB pixels/);
});
