// The ResNet model: family sizes against the published parameter counts, training-mode
// mechanics (running stats committed exactly once, gradients for parameters only), stochastic
// depth against an independent construction, the export/import round trip, and errors.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createResNet, exportTimmState, importTimmState, loadTimmSafetensors, saveTimmSafetensors,
  resnetPlan, resnetStateSpec, isNoWeightDecay, tf, type BatchStats, type ResNet, type ResNetArchName,
} from '../../src/model/index.ts';
import { Rng, streamFor } from '../../src/util/rng.ts';
import { useBackend, normals, maxAbsDiff } from './helpers.ts';

before(() => useBackend('cpu'));

const input = (n: number, size: number, seed = 1) => tf.tensor4d(normals(n * size * size * 3, seed), [n, size, size, 3]);

test('parameter counts of the family equal torchvision/timm\'s published numbers', () => {
  const want: Record<string, number> = {
    resnet18: 11_689_512, resnet34: 21_797_672, resnet50: 25_557_032, resnet101: 44_549_160, resnet152: 60_192_808,
  };
  for (const [arch, n] of Object.entries(want)) {
    const spec = resnetStateSpec(resnetPlan(arch as ResNetArchName, 1000));
    const got = spec.filter((e) => e.kind === 'parameter').reduce((s, e) => s + e.timmShape.reduce((a, b) => a * b, 1), 0);
    assert.equal(got, n, arch);
  }
});

test('resnet50 weight-decay groups: 54 tensors / 25,502,912 decayed, 107 / 54,120 not (spec §2.8)', () => {
  const params = resnetStateSpec(resnetPlan('resnet50', 1000)).filter((e) => e.kind === 'parameter');
  const size = (l: typeof params) => l.reduce((s, e) => s + e.timmShape.reduce((a, b) => a * b, 1), 0);
  const noDecay = params.filter(isNoWeightDecay), decay = params.filter((e) => !isNoWeightDecay(e));
  assert.deepEqual([decay.length, size(decay), noDecay.length, size(noDecay)], [54, 25_502_912, 107, 54_120]);
});

test('resnet18: BasicBlock names, shapes and output size; trainable vs buffer metadata', () => {
  const m = createResNet('resnet18', { numClasses: 7, init: 'none' });
  try {
    assert.ok(m.hasVariable('layer2.0.downsample.0.weight') && !m.hasVariable('layer1.0.downsample.0.weight'));
    assert.ok(!m.hasVariable('layer1.0.conv3.weight'));
    assert.deepEqual(m.variable('layer3.1.conv2.weight').timmShape, [256, 256, 3, 3]);
    assert.deepEqual(m.variable('layer3.1.conv2.weight').shape, [3, 3, 256, 256]);
    assert.deepEqual(m.variable('fc.weight').shape, [512, 7]);
    assert.equal(m.variable('fc.bias').noWeightDecay, true);
    assert.equal(m.variable('layer1.0.bn1.weight').noWeightDecay, true);
    assert.equal(m.variable('layer1.0.conv1.weight').noWeightDecay, false);
    assert.equal(m.variable('bn1.running_var').kind, 'buffer');
    assert.equal(m.trainableVariables.length, m.parameters.length);
    assert.ok(m.trainableVariables.every((v) => v.trainable) && m.buffers.every((b) => !b.variable.trainable));
    const y = tf.tidy(() => m.apply(input(1, 32), { training: false }));
    assert.deepEqual(y.shape, [1, 7]);
    y.dispose();
  } finally {
    m.dispose();
  }
});

/** A few plain SGD steps with the forward/variableGrads/commit pattern; returns the losses. */
function train(m: ResNet, steps: number, x: tf.Tensor4D): number[] {
  const losses: number[] = [];
  const byName = new Map(m.parameters.map((p) => [p.variable.name, p.variable]));
  for (let s = 0; s < steps; s++) {
    let stats: BatchStats[] = [];
    const { value, grads } = tf.variableGrads(() => {
      const r = m.forward(x, { training: true });
      stats = r.batchStats;
      return tf.mean(tf.square(tf.sub(r.logits, 1))) as tf.Scalar;
    }, m.trainableVariables);
    m.commitBatchStats(stats);
    losses.push(value.dataSync()[0]);
    tf.tidy(() => {
      for (const [name, g] of Object.entries(grads)) byName.get(name)!.assign(tf.sub(byName.get(name)!, tf.mul(g, 0.05)));
    });
    tf.dispose([value, ...Object.values(grads)]);
  }
  return losses;
}

test('training step: gradients for every parameter and no buffer; running stats committed once per forward', () => {
  // 16 px: layer3/4 run at 1x1, so 3 samples are 3 values per channel for BN (cheap on the cpu backend).
  const m = createResNet('resnet_tiny', { numClasses: 5, seed: 2, zeroInitLast: false });
  const x = input(3, 16, 9);
  try {
    const rv0 = m.variable('layer2.0.bn2.running_var').variable.dataSync().slice();
    const r = m.forward(x, { training: true });
    assert.equal(r.batchStats.length, 17, 'one entry per BN layer (stem + 4 blocks x 4)');
    assert.deepEqual(Array.from(m.variable('layer2.0.bn2.running_var').variable.dataSync()), Array.from(rv0), 'forward() writes nothing');
    m.discardBatchStats(r.batchStats);
    r.logits.dispose();

    let stats: BatchStats[] = [];
    const { value, grads } = tf.variableGrads(() => {
      const f = m.forward(x, { training: true });
      stats = f.batchStats;
      return tf.mean(f.logits) as tf.Scalar;
    }, m.trainableVariables);
    assert.equal(Object.keys(grads).length, m.parameters.length);
    for (const p of m.parameters) assert.deepEqual(grads[p.variable.name].shape, p.shape, p.name);
    m.commitBatchStats(stats);
    for (const b of m.buffers.filter((v) => v.role === 'bn_num_batches_tracked')) assert.equal(b.variable.dataSync()[0], 1, b.name);
    assert.notDeepEqual(Array.from(m.variable('layer2.0.bn2.running_var').variable.dataSync()), Array.from(rv0));
    tf.dispose([value, ...Object.values(grads)]);

    // apply() in training mode commits immediately; in eval mode it never writes.
    tf.tidy(() => m.apply(x, { training: true }));
    tf.tidy(() => m.apply(x, { training: false }));
    assert.equal(m.variable('bn1.num_batches_tracked').variable.dataSync()[0], 2);

    const losses = train(m, 3, x);
    assert.ok(losses[2] < losses[0], `SGD lowers the loss: ${losses}`);
  } finally {
    x.dispose();
    m.dispose();
  }
});

test('round trip: a trained tiny model exported to safetensors and imported back gives identical logits', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rsb-model-'));
  const x = input(3, 24, 5);
  const a = createResNet('resnet_tiny', { numClasses: 6, seed: 11 });
  const b = createResNet('resnet_tiny', { numClasses: 6, seed: 99 });
  try {
    train(a, 2, x);
    const file = join(dir, 'trained.safetensors');
    saveTimmSafetensors(a, file, { note: 'round trip test' });
    const report = loadTimmSafetensors(b, file);
    assert.equal(report.loaded.length, a.variables.length);
    for (const v of a.variables) {
      assert.deepEqual(Array.from(b.variable(v.name).variable.dataSync()), Array.from(v.variable.dataSync()), v.name);
    }
    assert.equal(b.variable('layer3.0.bn2.num_batches_tracked').variable.dataSync()[0], 2);
    const la = tf.tidy(() => a.apply(x, { training: false }).dataSync());
    const lb = tf.tidy(() => b.apply(x, { training: false }).dataSync());
    assert.deepEqual(Array.from(lb), Array.from(la));
  } finally {
    a.dispose();
    b.dispose();
    x.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
});

/** Training-mode logits without touching the running stats. */
function trainLogits(m: ResNet, x: tf.Tensor4D, dropPath?: { rng: Rng | ((i: number) => Rng) }): Float32Array {
  const r = m.forward(x, { training: true, dropPath });
  m.discardBatchStats(r.batchStats);
  const out = r.logits.dataSync() as Float32Array;
  r.logits.dispose();
  return out;
}

/** A fake stream whose every uniform draw is `u`: u ~ 1 drops every branch, u = 0 keeps all. */
const constantRng = (u: number) => ({ random: () => u }) as unknown as Rng;

/** Sets the last BN of every block with drop rate > 0 (in `rates`) to gamma*s, beta*s (s = 0 removes the branch). */
function scaleLastBn(m: ResNet, rates: ResNet, s: (rate: number) => number): void {
  for (const blk of rates.plan.blocks) {
    if (blk.dropPathRate === 0) continue;
    const bn = blk.branch[blk.branch.length - 1].bn;
    for (const k of ['weight', 'bias']) {
      const v = m.variable(`${bn}.${k}`).variable;
      tf.tidy(() => v.assign(tf.mul(v, s(blk.dropPathRate))));
    }
  }
}

test('drop path: a dropped branch adds zero, a kept one is scaled by 1/(1-rate); block 0 is never dropped', () => {
  const x = input(3, 24, 3);
  const a = createResNet('resnet_tiny_basic', { numClasses: 4, seed: 5, zeroInitLast: false, dropPathRate: 0.6 });
  const ref = createResNet('resnet_tiny_basic', { numClasses: 4, init: 'none', zeroInitLast: false });
  try {
    assert.deepEqual(Object.values(a.blockDropPathRates), [0, 1, 2, 3].map((k) => (0.6 * k) / 3));
    const reload = () => importTimmState(ref, exportTimmState(a));
    // BN in training mode: the last BN's output is linear in (gamma, beta), so scaling both by s
    // scales the branch by s exactly as drop path does.
    for (const [u, s] of [[0.9999999, () => 0], [0, (r: number) => 1 / (1 - r)]] as const) {
      reload();
      scaleLastBn(ref, a, s);
      const got = trainLogits(a, x, { rng: constantRng(u) });
      const want = trainLogits(ref, x);
      assert.ok(maxAbsDiff(got, want) < 1e-5, `u=${u}: ${maxAbsDiff(got, want)}`);
    }
    // With real streams: deterministic per key, different across keys, identity in eval.
    const run = (seed: number) => Array.from(trainLogits(a, x, { rng: (i) => streamFor(seed, 'dropPath', 0, i) }));
    assert.deepEqual(run(1), run(1));
    assert.notDeepEqual(run(1), run(2));
    const evalA = tf.tidy(() => a.apply(x, { training: false }).dataSync());
    reload();
    const evalRef = tf.tidy(() => ref.apply(x, { training: false }).dataSync());
    assert.deepEqual(Array.from(evalA), Array.from(evalRef));
    assert.throws(() => a.forward(x, { training: true }), /dropPathRate 0\.6 in training mode needs opts\.dropPath\.rng/);
  } finally {
    a.dispose();
    ref.dispose();
    x.dispose();
  }
});

test('bad input and bad weights give clear errors', () => {
  const m = createResNet('resnet_tiny', { numClasses: 3, init: 'none' });
  try {
    assert.throws(() => m.apply(tf.zeros([1, 8, 8, 4]) as tf.Tensor4D, { training: false }), /NHWC with 3 channels/);
    assert.throws(() => m.apply(tf.zeros([1, 8, 8, 3], 'int32') as tf.Tensor4D, { training: false }), /float32/);
    assert.throws(() => createResNet('resnet51' as ResNetArchName), /unknown ResNet arch 'resnet51'/);
    assert.throws(() => createResNet('resnet_tiny', { numClasses: 0 }), /numClasses/);
    const state = exportTimmState(m);
    const fc = state.get('fc.weight')!;
    state.set('fc.weight', { ...fc, shape: [4, 256], data: new Float32Array(1024) });
    assert.throws(() => importTimmState(m, state, { source: 'x.safetensors' }), /x\.safetensors: 'fc\.weight' has shape \[4,256\], the model \(resnet_tiny\) wants \[3,256\]/);
    state.set('fc.weight', fc);
    state.delete('layer1.0.bn1.running_mean');
    state.set('head.extra', fc);
    assert.throws(() => importTimmState(m, state, { source: 'y.safetensors' }), /y\.safetensors: does not match resnet_tiny: missing 1 \(layer1\.0\.bn1\.running_mean\); unexpected 1 \(head\.extra\)/);
    // Files without BN counters load under strict, as in PyTorch (the counters stay as they were).
    const noCounters = exportTimmState(m);
    for (const k of [...noCounters.keys()]) if (k.endsWith('.num_batches_tracked')) noCounters.delete(k);
    assert.equal(importTimmState(m, noCounters).missing.length, 17);
    const r = importTimmState(m, state, { strict: false });
    assert.deepEqual([r.missing, r.unexpected], [['layer1.0.bn1.running_mean'], ['head.extra']]);
  } finally {
    m.dispose();
  }
});

test("the model's per-block drop-path rates equal src/train/drop-path.ts's rule (kept apart: resnet-archs imports no tfjs)", async () => {
  const { dropPathRates } = await import('../../src/train/drop-path.ts');
  const { blockDropPathRates } = await import('../../src/model/resnet-archs.ts');
  for (const n of [1, 2, 4, 8, 16, 33, 50]) for (const r of [0, 0.05, 0.1, 0.3, 1]) assert.deepEqual(blockDropPathRates(n, r), dropPathRates(n, r), `n ${n} r ${r}`);
});
