// The counter-based RNG: same key -> same stream, different keys -> unrelated streams,
// and the distributions the recipes draw from have the right moments.
// Moment tolerances are 6 standard errors of the estimate (false-failure odds ~1e-9).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng, streamFor } from '../../src/util/rng.ts';

const N = 200_000;

test('rng: equal keys give equal streams, any key change gives another stream', () => {
  const a = streamFor(0, 'crop', 3, 17);
  const b = streamFor(0, 'crop', 3, 17);
  const xs = Array.from({ length: 8 }, () => a.nextUint32());
  assert.deepEqual(Array.from({ length: 8 }, () => b.nextUint32()), xs);
  for (const other of [streamFor(1, 'crop', 3, 17), streamFor(0, 'flip', 3, 17), streamFor(0, 'crop', 4, 17), streamFor(0, 'crop', 3, 18)]) {
    const ys = Array.from({ length: 8 }, () => other.nextUint32());
    assert.notDeepEqual(ys, xs);
  }
  // Keys differing only in length (trailing zero) are distinct too.
  assert.notEqual(new Rng(5, 1).nextUint32(), new Rng(5, 1, 0).nextUint32());
});

test('rng: uniform and randint moments and bounds', () => {
  const r = new Rng(42, 1);
  let s = 0, s2 = 0;
  const counts = new Array(7).fill(0);
  for (let i = 0; i < N; i++) {
    const u = r.random();
    assert.ok(u >= 0 && u < 1);
    s += u; s2 += u * u;
    counts[r.randint(0, 6)]++;
  }
  const mean = s / N;
  assert.ok(Math.abs(mean - 0.5) < 6 * Math.sqrt(1 / 12 / N), `mean ${mean}`);
  assert.ok(Math.abs(s2 / N - mean * mean - 1 / 12) < 0.002);
  for (const c of counts) assert.ok(Math.abs(c / N - 1 / 7) < 6 * Math.sqrt((1 / 7) * (6 / 7) / N), `randint bin ${c}`);
});

test('rng: gauss, gamma and beta moments', () => {
  const r = new Rng(7, 2);
  let s = 0, s2 = 0;
  for (let i = 0; i < N; i++) { const z = r.gauss(); s += z; s2 += z * z; }
  assert.ok(Math.abs(s / N) < 6 / Math.sqrt(N));
  assert.ok(Math.abs(s2 / N - 1) < 6 * Math.sqrt(2 / N));
  // Beta(a, a): mean 1/2, variance 1/(4(2a+1)). Mixup uses a = 0.1, 0.2; CutMix a = 1.
  for (const a of [0.1, 0.2, 1.0]) {
    let m = 0, m2 = 0;
    for (let i = 0; i < N; i++) { const x = r.beta(a, a); assert.ok(x >= 0 && x <= 1); m += x; m2 += x * x; }
    const varTrue = 1 / (4 * (2 * a + 1));
    const mean = m / N;
    assert.ok(Math.abs(mean - 0.5) < 6 * Math.sqrt(varTrue / N), `beta(${a}) mean ${mean}`);
    assert.ok(Math.abs(m2 / N - mean * mean - varTrue) < 0.01, `beta(${a}) var`);
  }
});

test('rng: permutation is a permutation and is uniform on small n', () => {
  const r = new Rng(3);
  const p = r.permutation(1000);
  assert.deepEqual([...p].sort((x, y) => x - y), Array.from({ length: 1000 }, (_, i) => i));
  const firsts = new Array(4).fill(0);
  for (let i = 0; i < 40_000; i++) firsts[r.permutation(4)[0]]++;
  for (const c of firsts) assert.ok(Math.abs(c / 40_000 - 0.25) < 6 * Math.sqrt(0.25 * 0.75 / 40_000));
});

test('rng: rejects keys that are not non-negative integers', () => {
  assert.throws(() => new Rng(1.5), /non-negative integers/);
  assert.throws(() => new Rng(-1), /non-negative integers/);
});
