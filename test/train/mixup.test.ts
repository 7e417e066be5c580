// Mixup/CutMix beyond the goldens (which use float batches): uint8 rounding half to even,
// the draw order and statistics of drawMix, the pairing and box on uint8 NHWC batches, and
// the spec's E[lambda] ~ 0.68 for corrected CutMix at 224 px.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../src/util/rng.ts';
import { applyMix, drawMix, mixConfigFromRecipe, mixTargets, randBox, type MixConfig } from '../../src/train/mixup.ts';
import { a1 } from '../../recipes/index.ts';

const cfg: MixConfig = { mixupAlpha: 0.2, cutmixAlpha: 1, prob: 1, switchProb: 0.5, correctLam: true, labelSmoothing: 0.1, numClasses: 10 };

test('uint8 mixup rounds half to even and pairs sample i with B-1-i', () => {
  // lam = 0.5: 1 & 2 -> 1.5 -> 2 (even); 2 & 3 -> 2.5 -> 2; 254 & 255 -> 254.5 -> 254.
  const shape = { batch: 2, height: 1, width: 3, channels: 1 };
  const images = Uint8Array.from([1, 2, 254, 2, 3, 255]);
  const r = applyMix(images, [0, 1], shape, { mixed: true, useCutmix: false, lam: 0.5, cy: 0, cx: 0 }, cfg);
  assert.ok(r.images instanceof Uint8Array);
  assert.deepEqual(Array.from(r.images), [2, 2, 254, 2, 2, 254]);
  assert.deepEqual(Array.from(images), [1, 2, 254, 2, 3, 255], 'input untouched');
  // lam = 0.3: 10*0.3 + 20*0.7 = 17 exactly; 20*0.3 + 10*0.7 = 13.
  const r2 = applyMix(Uint8Array.from([10, 20]), [3, 4], { batch: 2, height: 1, width: 1, channels: 1 }, { mixed: true, useCutmix: false, lam: 0.3, cy: 0, cx: 0 }, cfg);
  assert.deepEqual(Array.from(r2.images), [17, 13]);
});

test('uint8 cutmix copies the box from the partner and corrects lambda', () => {
  const [b, h, w, c] = [4, 6, 8, 3];
  const images = new Uint8Array(b * h * w * c);
  for (let i = 0; i < b; i++) images.fill(i * 10 + 1, i * h * w * c, (i + 1) * h * w * c);
  const r = applyMix(images, [0, 1, 2, 3], { batch: b, height: h, width: w, channels: c }, { mixed: true, useCutmix: true, lam: 0.5, cy: 3, cx: 4 }, cfg);
  // cut = floor(6*sqrt(.5)) = 4, floor(8*sqrt(.5)) = 5 -> rows 1..5, cols 2..6 (half-extent floor(cut/2)).
  assert.deepEqual(r.box, { yl: 1, yh: 5, xl: 2, xh: 6 });
  assert.equal(r.lam, 1 - (4 * 4) / (6 * 8));
  for (let i = 0; i < b; i++) {
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const inBox = y >= 1 && y < 5 && x >= 2 && x < 6;
        const want = (inBox ? b - 1 - i : i) * 10 + 1;
        for (let k = 0; k < c; k++) assert.equal(r.images[((i * h + y) * w + x) * c + k], want, `sample ${i} (${y},${x})`);
      }
    }
  }
});

test('targets: smoothed one-hots mixed with the reversed batch, rows sum to 1', () => {
  const t = mixTargets([2, 5, 5, 7], 0.75, 10, 0.1);
  const off = 0.01, on = 0.91;
  const row0 = Array.from(t.subarray(0, 10));
  row0.forEach((v, k) => assert.ok(Math.abs(v - ((k === 2 ? on : off) * 0.75 + (k === 7 ? on : off) * 0.25)) < 1e-7));
  for (let i = 0; i < 4; i++) assert.ok(Math.abs(t.subarray(i * 10, i * 10 + 10).reduce((a, v) => a + v, 0) - 1) < 1e-6);
  // An unmixed batch (lam 1) still gets smoothed targets.
  const r = applyMix(new Uint8Array(2), [1, 0], { batch: 2, height: 1, width: 1, channels: 1 }, { mixed: false, useCutmix: false, lam: 1, cy: 0, cx: 0 }, cfg);
  assert.ok(Math.abs(r.targets[1] - on) < 1e-7 && Math.abs(r.targets[0] - off) < 1e-7);
});

test('drawMix makes its draws in timm order: mix?, switch, Beta, centre row, centre column', () => {
  const calls: string[] = [];
  const fake = {
    random: () => (calls.push('random'), calls.length === 1 ? 0.3 : 0.2),
    beta: (a: number, b: number) => (calls.push(`beta(${a},${b})`), 0.4),
    randint: (lo: number, hi: number) => (calls.push(`randint(${lo},${hi})`), hi),
  } as unknown as Rng;
  const d = drawMix(fake, cfg, 7, 9);
  assert.deepEqual(calls, ['random', 'random', 'beta(1,1)', 'randint(0,6)', 'randint(0,8)']);
  assert.deepEqual(d, { mixed: true, useCutmix: true, lam: 0.4, cy: 6, cx: 8 });
  assert.deepEqual(drawMix(new Rng(1), { ...cfg, prob: 0 }, 7, 9).mixed, false);
  assert.deepEqual(drawMix(new Rng(1), { ...cfg, mixupAlpha: 0, cutmixAlpha: 0 }, 7, 9).mixed, false);
});

test('drawMix statistics: switch probability, Beta means, corrected CutMix lambda ~ 0.68 at 224 (spec 2.6)', () => {
  const n = 4000;
  let cut = 0, mixLamSum = 0, mixN = 0, corrSum = 0;
  for (let k = 0; k < n; k++) {
    const rng = new Rng(7, 5, k); // one stream per batch, as the loader keys them
    const d = drawMix(rng, { ...cfg, mixupAlpha: 0.2 }, 224, 224);
    if (d.useCutmix) {
      cut++;
      corrSum += randBox(224, 224, d.lam, d.cy, d.cx).lam;
    } else {
      mixLamSum += d.lam;
      mixN++;
    }
  }
  // Binomial sd at n = 4000 is 0.008; 4 sd bounds.
  assert.ok(Math.abs(cut / n - 0.5) < 0.032, `cutmix share ${cut / n}`);
  // Beta(0.2, 0.2) has mean 0.5 and sd 0.43: 4 sd of the mean over ~2000 draws ~ 0.04.
  assert.ok(Math.abs(mixLamSum / mixN - 0.5) < 0.04, `mixup lam mean ${mixLamSum / mixN}`);
  assert.ok(Math.abs(corrSum / cut - 0.68) < 0.03, `corrected cutmix lam mean ${corrSum / cut}`);
  // Same key, same draws.
  assert.deepEqual(drawMix(new Rng(7, 5, 3), cfg, 224, 224), drawMix(new Rng(7, 5, 3), cfg, 224, 224));
});

test('recipe settings map over; bad batches are refused', () => {
  assert.deepEqual(mixConfigFromRecipe(a1), { mixupAlpha: 0.2, cutmixAlpha: 1, prob: 1, switchProb: 0.5, correctLam: true, labelSmoothing: 0.1, numClasses: 1000 });
  const d = { mixed: true, useCutmix: false, lam: 0.5, cy: 0, cx: 0 };
  assert.throws(() => applyMix(new Uint8Array(3), [0, 1, 2], { batch: 3, height: 1, width: 1, channels: 1 }, d, cfg), /batch size must be even, got 3/);
  assert.throws(() => applyMix(new Uint8Array(5), [0, 1], { batch: 2, height: 1, width: 1, channels: 1 }, d, cfg), /5 values for a 2x1x1x1 batch/);
  assert.throws(() => mixTargets([0, 10], 0.5, 10, 0), /label 10 outside 0\.\.9/);
  assert.throws(() => randBox(8, 8, 0.5, 8, 0), /centre \(8, 0\) outside 8x8/);
});
