// The WebAssembly SIMD resize must be bit-identical to the scalar port (which the goldens
// pin to Pillow) on every shape: odd widths, single rows, enlarging, shrinking, boxes at
// the image edges, one pass or two.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resizeCrop, resizeCropScalar } from '../../src/data/transforms/resample.ts';
import { simdKernels } from '../../src/data/transforms/resample-simd.ts';
import { randomImage } from './helpers.ts';
import { flipHorizontal } from '../../src/data/transforms/flip.ts';
import { Rng } from '../../src/util/rng.ts';

test('SIMD kernels assemble and validate in this runtime', () => {
  assert.ok(simdKernels(), 'WebAssembly SIMD is available in Node 20 and Deno');
});

test('SIMD and scalar resizes agree byte for byte on 300 random crops', () => {
  const rng = new Rng(11);
  for (let k = 0; k < 150; k++) {
    const W = rng.randint(1, 300), H = rng.randint(1, 200);
    const img = randomImage(W, H, k);
    const bw = rng.randint(1, W), bh = rng.randint(1, H);
    const box = { i: rng.randint(0, H - bh), j: rng.randint(0, W - bw), h: bh, w: bw };
    const ow = rng.random() < 0.15 ? bw : rng.randint(1, 240);
    const oh = rng.random() < 0.15 ? bh : rng.randint(1, 240);
    for (const f of ['bilinear', 'bicubic'] as const) {
      const a = resizeCrop(img, box, ow, oh, f).data;
      const b = resizeCropScalar(img, box, ow, oh, f).data;
      assert.ok(Buffer.from(a).equals(Buffer.from(b)), `${W}x${H} box ${JSON.stringify(box)} -> ${ow}x${oh} ${f}`);
    }
  }
});

test('the kernels grow their memory for large images', () => {
  const img = randomImage(1500, 1100, 3);
  const box = { i: 0, j: 0, h: 1100, w: 1500 };
  assert.ok(Buffer.from(resizeCrop(img, box, 300, 220, 'bicubic').data).equals(Buffer.from(resizeCropScalar(img, box, 300, 220, 'bicubic').data)));
});

test('a window of the output equals cropping the full resize (both implementations)', () => {
  const rng = new Rng(12);
  for (let k = 0; k < 80; k++) {
    const W = rng.randint(2, 160), H = rng.randint(2, 120);
    const img = randomImage(W, H, 100 + k);
    const box = { i: 0, j: 0, h: H, w: W };
    const ow = rng.random() < 0.2 ? W : rng.randint(1, 200);
    const oh = rng.random() < 0.2 ? H : rng.randint(1, 200);
    const win = { i: rng.randint(0, oh - 1), j: rng.randint(0, ow - 1), h: 0, w: 0 };
    win.h = rng.randint(1, oh - win.i);
    win.w = rng.randint(1, ow - win.j);
    for (const f of ['bilinear', 'bicubic'] as const) {
      const full = resizeCropScalar(img, box, ow, oh, f).data;
      const want = new Uint8Array(win.w * win.h * 3);
      for (let y = 0; y < win.h; y++) want.set(full.subarray(((win.i + y) * ow + win.j) * 3, ((win.i + y) * ow + win.j + win.w) * 3), y * win.w * 3);
      const what = `${W}x${H} -> ${ow}x${oh} window ${JSON.stringify(win)} ${f}`;
      assert.ok(Buffer.from(resizeCrop(img, box, ow, oh, f, win).data).equals(Buffer.from(want)), `simd ${what}`);
      assert.ok(Buffer.from(resizeCropScalar(img, box, ow, oh, f, win).data).equals(Buffer.from(want)), `scalar ${what}`);
    }
  }
  assert.throws(() => resizeCrop(randomImage(10, 10), { i: 0, j: 0, h: 10, w: 10 }, 5, 5, 'bilinear', { i: 3, j: 0, h: 3, w: 5 }), /window .* is not inside the 5x5 output/);
});

test('a mirrored resize equals flipping the plain one (SIMD and scalar, with and without a horizontal pass)', () => {
  const rng = new Rng(13);
  for (let k = 0; k < 60; k++) {
    const W = rng.randint(1, 120), H = rng.randint(1, 90);
    const img = randomImage(W, H, 500 + k);
    const bw = rng.randint(1, W), bh = rng.randint(1, H);
    const box = { i: rng.randint(0, H - bh), j: rng.randint(0, W - bw), h: bh, w: bw };
    const ow = rng.random() < 0.25 ? bw : rng.randint(1, 100);
    const oh = rng.randint(1, 100);
    for (const f of ['bilinear', 'bicubic'] as const) {
      const want = flipHorizontal(resizeCropScalar(img, box, ow, oh, f)).data;
      const what = `${W}x${H} box ${JSON.stringify(box)} -> ${ow}x${oh} ${f}`;
      assert.ok(Buffer.from(resizeCrop(img, box, ow, oh, f, undefined, { mirror: true }).data).equals(Buffer.from(want)), `SIMD ${what}`);
      assert.ok(Buffer.from(resizeCropScalar(img, box, ow, oh, f, undefined, { mirror: true }).data).equals(Buffer.from(want)), `scalar ${what}`);
    }
  }
});
