// RandomResizedCrop box choice. The goldens check timm's draws call by call; these check
// the rules on their own: rounding, bounds, the fallback for extreme shapes, and that the
// production Rng gives a deterministic, sensible distribution.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rrcParams } from '../../src/data/transforms/rrc.ts';
import { ReplaySource } from '../../src/data/transforms/random-source.ts';
import { pyRound, pyRoundDigits } from '../../src/data/transforms/pymath.ts';
import { Rng } from '../../src/util/rng.ts';

const SCALE: [number, number] = [0.08, 1];
const RATIO: [number, number] = [3 / 4, 4 / 3];

test('Python rounding: halves go to the even neighbour', () => {
  assert.deepEqual([0.5, 1.5, 2.5, -0.5, -1.5, 2.4999, 2.5001].map(pyRound), [0, 2, 2, 0, -2, 2, 3]);
  assert.equal(pyRoundDigits(Math.cos(Math.PI / 2), 15), 0);
  assert.equal(pyRoundDigits(0.1234567890123456789, 15), 0.123456789012346);
});

test('every box lies inside the image and respects the ratio range, for many shapes', () => {
  for (const [w, h] of [[500, 375], [64, 200], [200, 64], [3, 3], [7, 1000], [224, 224]]) {
    for (let k = 0; k < 300; k++) {
      const b = rrcParams(w, h, SCALE, RATIO, new Rng(5, w, h, k));
      assert.ok(b.i >= 0 && b.j >= 0 && b.i + b.h <= h && b.j + b.w <= w && b.w >= 1 && b.h >= 1, `${w}x${h} #${k}: ${JSON.stringify(b)}`);
    }
  }
});

test('a 1x1 image can get an empty box, as in timm; trainImage widens it to one pixel', () => {
  // area * 0.08 rounds to 0 pixels: timm would then fail inside the resize.
  const draws = [{ fn: 'uniform', value: 0 }, { fn: 'uniform', value: 0.5 }, { fn: 'randint', value: 0 }, { fn: 'randint', value: 0 }];
  const b = rrcParams(1, 1, SCALE, RATIO, new ReplaySource(draws));
  assert.deepEqual([b.w, b.h], [0, 0]);
});

test('fallback: too narrow images keep the width, too wide keep the height, 4:3 keeps all', () => {
  // Every attempt asks for the whole area at aspect 4/3: never fits a 64x200 portrait.
  const always = (n: number) => Array.from({ length: n }, (_, k) => ({ fn: 'uniform', value: k % 2 === 0 ? 0.999999 : 0.999999 }));
  let b = rrcParams(64, 200, SCALE, RATIO, new ReplaySource(always(20)));
  assert.deepEqual([b.i, b.j, b.h, b.w, b.fallback, b.attempts], [Math.floor((200 - 85) / 2), 0, 85, 64, true, 10]);
  b = rrcParams(200, 64, SCALE, RATIO, new ReplaySource(always(20)));
  assert.deepEqual([b.h, b.w, b.fallback], [64, 85, true]);
  b = rrcParams(400, 300, [1.5, 2], RATIO, new ReplaySource(always(20)));
  assert.deepEqual([b.i, b.j, b.h, b.w, b.fallback], [0, 0, 300, 400, true]);
});

test('the first fitting attempt is placed with top drawn before left', () => {
  const draws = [
    { fn: 'uniform', value: 0.5 }, { fn: 'uniform', value: 0.5 }, // area 0.54, aspect 1
    { fn: 'randint', value: 0.25 }, { fn: 'randint', value: 0.75 },
  ];
  const b = rrcParams(100, 100, SCALE, RATIO, new ReplaySource(draws));
  const side = pyRound(Math.sqrt(0.54 * 10000));
  assert.deepEqual([b.h, b.w, b.attempts], [side, side, 1]);
  assert.equal(b.i, Math.floor(0.25 * (100 - side + 1)));
  assert.equal(b.j, Math.floor(0.75 * (100 - side + 1)));
});

test('the production stream gives the same box for the same key and a sane area distribution', () => {
  const a = rrcParams(500, 375, SCALE, RATIO, new Rng(1, 2, 3));
  const b = rrcParams(500, 375, SCALE, RATIO, new Rng(1, 2, 3));
  assert.deepEqual(a, b);
  let s = 0;
  const n = 4000;
  for (let k = 0; k < n; k++) {
    const r = rrcParams(500, 375, SCALE, RATIO, new Rng(9, k));
    s += (r.w * r.h) / (500 * 375);
  }
  // Accepted boxes are biased small (large ones fail to fit more often): mean area ~0.42-0.5.
  const mean = s / n;
  assert.ok(mean > 0.38 && mean < 0.52, `mean area fraction ${mean}`);
});
