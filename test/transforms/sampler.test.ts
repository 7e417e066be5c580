// Samplers: timm's RepeatAugSampler properties (the goldens check exact lists with
// torch's permutation) and the plain / distributed shuffling sampler.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RepeatAugSampler, ShuffleSampler } from '../../src/data/sampler.ts';

test('repeat-aug: sizes follow timm (ImageNet on 8 replicas: 160,128 per replica)', () => {
  const s = new RepeatAugSampler({ datasetSize: 1281167, numReplicas: 8 }, (n) => new Int32Array(n));
  assert.equal(s.numSamples, Math.ceil((1281167 * 3) / 8));
  assert.equal(s.totalSize, s.numSamples * 8);
  assert.equal(s.length, 1281024 / 8);
});

test('repeat-aug: the copies of an image go to different replicas and every replica gets its share', () => {
  const n = 1024, R = 4;
  const lists = Array.from({ length: R }, (_, r) => new RepeatAugSampler({ datasetSize: n, numReplicas: R, rank: r }).indices(2));
  for (const l of lists) assert.equal(l.length, 256);
  // Entries k of ranks 0..R-1 come from the same run of repeats: positions r + kR.
  const all = new RepeatAugSampler({ datasetSize: n, numReplicas: R });
  const seen = new Map<number, Set<number>>();
  for (let r = 0; r < R; r++) for (const i of all.forRank(2, r)) {
    if (!seen.has(i)) seen.set(i, new Set());
    seen.get(i)!.add(r);
  }
  let together = 0;
  for (const ranks of seen.values()) if (ranks.size === 1) together++;
  assert.ok(together < seen.size * 0.05, 'nearly every image appears on several replicas');
});

test('repeat-aug: the order is the same for any run seed by default (seeded by the epoch only), and changes per epoch', () => {
  const a = new RepeatAugSampler({ datasetSize: 600 });
  const b = new RepeatAugSampler({ datasetSize: 600 });
  assert.deepEqual(a.indices(5), b.indices(5));
  assert.notDeepEqual(a.indices(5), a.indices(6));
  assert.notDeepEqual(new RepeatAugSampler({ datasetSize: 600, seed: 1 }).indices(5), a.indices(5));
});

test('repeat-aug: one device standing in for R replicas puts each rank\'s local batch side by side', () => {
  const R = 4, B = 8;
  const s = new RepeatAugSampler({ datasetSize: 512, numReplicas: R });
  const g = s.globalOrder(1, B);
  assert.equal(g.length, s.length * R);
  for (let r = 0; r < R; r++) assert.deepEqual(g.subarray(r * B, (r + 1) * B), s.forRank(1, r).subarray(0, B));
  // the three copies of the first image sit in different local batches of the first step
  const first = g[0];
  const where = [...g.subarray(0, R * B)].flatMap((v, k) => (v === first ? [Math.floor(k / B)] : []));
  assert.equal(new Set(where).size, where.length);
});

test('repeat-aug: fractional repeats, no shuffle, and bad ranks', () => {
  const s = new RepeatAugSampler({ datasetSize: 4, numReplicas: 1, numRepeats: 1.5, selectedRound: 0, shuffle: false });
  assert.equal(s.numSamples, 6);
  assert.equal(s.length, 4);
  assert.deepEqual(Array.from(s.indices(0)), [0, 0, 1, 2]);
  assert.throws(() => new RepeatAugSampler({ datasetSize: 10, numReplicas: 2, rank: 2 }), /rank 2 is not below numReplicas 2/);
  assert.throws(() => new RepeatAugSampler({ datasetSize: -1 }), /RepeatAugSampler: \/datasetSize/);
});

test('shuffle sampler: a permutation per epoch, reshuffled every epoch, deterministic per seed', () => {
  const s = new ShuffleSampler({ datasetSize: 100, seed: 3 });
  const e0 = s.indices(0);
  assert.deepEqual([...e0].sort((a, b) => a - b), Array.from({ length: 100 }, (_, k) => k));
  assert.notDeepEqual(e0, s.indices(1));
  assert.deepEqual(e0, new ShuffleSampler({ datasetSize: 100, seed: 3 }).indices(0));
  assert.notDeepEqual(e0, new ShuffleSampler({ datasetSize: 100, seed: 4 }).indices(0));
});

test('shuffle sampler, distributed: ranks partition the padded order like torch DistributedSampler', () => {
  const n = 10, R = 4;
  const perm = Int32Array.from([3, 1, 4, 9, 5, 2, 6, 8, 7, 0]);
  const lists = Array.from({ length: R }, (_, r) => new ShuffleSampler({ datasetSize: n, numReplicas: R, rank: r }, () => perm).indices(0));
  // padded to 12 by wrapping: [...perm, 3, 1]; rank r takes r, r+4, r+8
  assert.deepEqual(lists.map((l) => Array.from(l)), [[3, 5, 7], [1, 2, 0], [4, 6, 3], [9, 8, 1]]);
  const dropped = Array.from({ length: R }, (_, r) => new ShuffleSampler({ datasetSize: n, numReplicas: R, rank: r, dropLast: true }, () => perm).indices(0));
  assert.deepEqual(dropped.map((l) => Array.from(l)), [[3, 5], [1, 2], [4, 6], [9, 8]]);
  const noShuffle = new ShuffleSampler({ datasetSize: 5, shuffle: false });
  assert.deepEqual(Array.from(noShuffle.indices(7)), [0, 1, 2, 3, 4]);
});
