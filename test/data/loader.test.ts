// The loader: same batches with 0, 1 or 2 workers; order from the sampler; drop_last; eval
// order and the partial last batch; each sample equals the transform called directly with its
// (seed, epoch, position) stream.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { generateSyntheticDataset } from '../../src/data/synthetic.ts';
import { prepare } from '../../src/data/prepare.ts';
import { openShards } from '../../src/data/shards.ts';
import { createLoader, type Batch } from '../../src/data/loader.ts';
import { RepeatAugSampler } from '../../src/data/sampler.ts';
import { trainOptions, evalOptions, trainSample, evalSample } from '../../src/data/transforms/index.ts';
import { streamFor } from '../../src/util/rng.ts';
import { tempDir } from './helpers.ts';

let tmp: ReturnType<typeof tempDir>;
let ds: string;
const train = trainOptions({ size: 32 });
const evalOpts = evalOptions({ size: 32 });
const SEED = 5;

before(async () => {
  tmp = tempDir('loader');
  const data = join(tmp.dir, 'data');
  await generateSyntheticDataset(data, { classes: 4, trainPerClass: 10, valPerClass: 3, minSide: 40, maxSide: 80 });
  ds = join(tmp.dir, 'ds');
  await prepare({ dataDir: data, outDir: ds, samplesPerShard: 16 });
});
after(() => tmp.cleanup());

async function collect(it: AsyncGenerator<Batch>): Promise<Batch[]> {
  const out: Batch[] = [];
  for await (const b of it) out.push(b);
  return out;
}

test('train batches are identical with 0, 1 and 2 workers', async () => {
  // with the default training decoder, 'fast': each worker thread loads the binding and
  // reuses its own decode buffer (or decodes with sharp where the binding is absent)
  assert.equal(train.decoder, 'fast');
  const runs: Batch[][] = [];
  for (const workers of [0, 1, 2]) {
    const L = await createLoader({ dir: ds, split: 'train', mode: 'train', batchSize: 6, seed: SEED, train, workers, prefetch: 3 });
    try {
      assert.equal(L.batchesPerEpoch(1), 6); // 40 samples, drop_last: floor(40 / 6)
      runs.push(await collect(L.epoch(1)));
    } finally {
      await L.close();
    }
  }
  for (const r of runs.slice(1)) {
    assert.equal(r.length, runs[0].length);
    r.forEach((b, i) => {
      assert.deepEqual(b.indices, runs[0][i].indices);
      assert.deepEqual(b.labels, runs[0][i].labels);
      assert.ok(Buffer.from(b.images).equals(Buffer.from(runs[0][i].images)), `batch ${i} pixels`);
    });
  }
  const b0 = runs[0][0];
  assert.equal(b0.images.length, 6 * 32 * 32 * 3);
  assert.deepEqual(b0.positions, Int32Array.from([0, 1, 2, 3, 4, 5]));
  // Labels are the shard labels of the indices; 36 distinct samples of 40 in one epoch.
  const shards = openShards(ds, 'train');
  for (const b of runs[0]) b.indices.forEach((ix, k) => assert.equal(b.labels[k], shards.labels[ix]));
  assert.equal(new Set(runs[0].flatMap((b) => [...b.indices])).size, 36);
  // Sample = trainSample with the (seed, epoch, position) stream.
  const s = await shards.read(runs[0][2].indices[4]);
  const want = await trainSample(s.bytes, train, streamFor(SEED, 'crop', 1, runs[0][2].positions[4]));
  assert.ok(Buffer.from(runs[0][2].images.subarray(4 * 3072, 5 * 3072)).equals(Buffer.from(want)));
  await shards.close();
});

test('epochs reshuffle; the sampler decides the order; startBatch resumes inside an epoch', async () => {
  const sampler = new RepeatAugSampler({ datasetSize: 40, numReplicas: 2, numRepeats: 3, selectedRound: 0 });
  const L = await createLoader({ dir: ds, split: 'train', mode: 'train', batchSize: 4, seed: SEED, train, workers: 0, sampler });
  try {
    const e0 = await collect(L.epoch(0));
    const e1 = await collect(L.epoch(1));
    const order0 = Int32Array.from(e0.flatMap((b) => [...b.indices]));
    assert.deepEqual(order0, sampler.indices(0).subarray(0, order0.length));
    assert.notDeepEqual(order0, Int32Array.from(e1.flatMap((b) => [...b.indices])));
    const tail = await collect(L.epoch(1, { startBatch: 3 }));
    assert.equal(tail.length, e1.length - 3);
    tail.forEach((b, i) => {
      assert.equal(b.index, i + 3);
      assert.ok(Buffer.from(b.images).equals(Buffer.from(e1[i + 3].images)));
    });
  } finally {
    await L.close();
  }
});

test('eval: dataset order, last partial batch kept, pixels from evalSample', async () => {
  const L = await createLoader({ dir: ds, split: 'val', mode: 'eval', batchSize: 5, eval: evalOpts, workers: 2 });
  try {
    const batches = await collect(L.epoch(0));
    assert.deepEqual(batches.map((b) => b.size), [5, 5, 2]);
    assert.deepEqual(Int32Array.from(batches.flatMap((b) => [...b.indices])), Int32Array.from({ length: 12 }, (_, i) => i));
    const shards = openShards(ds, 'val');
    const s = await shards.read(11);
    assert.ok(Buffer.from(batches[2].images.subarray(3072, 6144)).equals(Buffer.from(await evalSample(s.bytes, evalOpts))));
    assert.equal(batches[2].labels[1], s.label);
    await shards.close();
  } finally {
    await L.close();
  }
  const limited = await createLoader({ dir: ds, split: 'val', mode: 'eval', batchSize: 5, eval: evalOpts, workers: 0, limit: 7 });
  assert.equal(limited.batchesPerEpoch(), 2);
  await limited.close();
});

test('bad options fail clearly', async () => {
  await assert.rejects(createLoader({ dir: ds, split: 'train', mode: 'train', batchSize: 0, train }), /batchSize must be a positive integer/);
  await assert.rejects(createLoader({ dir: ds, split: 'train', mode: 'train', batchSize: 4, workers: 0 }), /train mode needs train transform options/);
  await assert.rejects(createLoader({ dir: join(ds, 'nope'), split: 'val', mode: 'eval', batchSize: 4, eval: evalOpts }), /not a prepared dataset/);
  const L = await createLoader({ dir: ds, split: 'train', mode: 'train', batchSize: 4, train, workers: 0, sampler: { indices: () => [0, 1, 99, 2] } });
  assert.throws(() => L.batchesPerEpoch(0), /sampler gave index 99 for epoch 0, dataset has 40/);
  await L.close();
});
