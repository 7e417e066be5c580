import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import os from 'node:os';
import { loadCheckpoint, saveCheckpoint, type Checkpoint } from '../../src/train/checkpoint.ts';
import { appendEpoch, readEpochs, writeEpochs } from '../../src/train/metrics.ts';
import { getProfile, scaleRecipe } from '../../src/pipeline/profiles.ts';

test('checkpoint round trip is bit exact and the write is atomic', () => {
  const dir = mkdtempSync(join(os.tmpdir(), 'rsb-ckpt-'));
  try {
    const file = join(dir, 'checkpoint.bin');
    assert.equal(loadCheckpoint(file), null);
    const a = new Float32Array([1.5, -0, Number.MIN_VALUE, 3.4e38, NaN]);
    const b = new Float32Array(7).map((_, i) => Math.fround(i / 3));
    const ck: Checkpoint = {
      meta: { format: 'rsb-checkpoint/1', nextEpoch: 3, updates: 42, elapsed: 12.5, runKey: 'k', extra: { step: 42 } },
      tensors: new Map([['conv1.weight', { shape: [5], data: a }], ['fc.bias', { shape: [7], data: b }]]),
    };
    saveCheckpoint(file, ck);
    assert.ok(!existsSync(`${file}.tmp`));
    const back = loadCheckpoint(file)!;
    assert.deepEqual(back.meta, ck.meta);
    assert.deepEqual(new Uint8Array(back.tensors.get('conv1.weight')!.data.buffer.slice(0)).slice(0, 20), new Uint8Array(a.buffer));
    assert.deepEqual([...back.tensors.get('fc.bias')!.data], [...b]);
    // A torn temp file from a killed writer does not disturb the last good checkpoint.
    writeFileSync(`${file}.tmp`, 'garbage');
    assert.equal(loadCheckpoint(file)!.meta.updates, 42);
    // A damaged checkpoint is an error naming the file.
    writeFileSync(file, readFileSync(file).subarray(0, 20));
    assert.throws(() => loadCheckpoint(file), new RegExp(`${file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: truncated`));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('metrics.jsonl: append, rewrite and a bad line reported with file and line', () => {
  const dir = mkdtempSync(join(os.tmpdir(), 'rsb-metrics-'));
  try {
    const file = join(dir, 'metrics.jsonl');
    const row = (epoch: number) => ({ epoch, loss: 1, lr: 1e-3, trainTop1: null, evalTop1: 50, imagesPerSec: 10, elapsed: 1, updates: 1, samples: 8 });
    appendEpoch(file, row(0));
    appendEpoch(file, row(1));
    assert.deepEqual(readEpochs(file).map((r) => r.epoch), [0, 1]);
    writeEpochs(file, readEpochs(file).slice(0, 1));
    assert.deepEqual(readEpochs(file).map((r) => r.epoch), [0]);
    writeFileSync(file, JSON.stringify(row(0)) + '\n{"epoch": -1}\n');
    assert.throws(() => readEpochs(file), /metrics\.jsonl:2: /);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('profiles: imagenet is the recipe unscaled; embedded follows its stated rules', () => {
  const a1 = { arch: 'resnet50', epochs: 600, warmupEpochs: 5, cooldownEpochs: 0, trainSize: 224, testSize: 224, globalBatch: 2048, lr: 5e-3, warmupLr: 1e-4, minLr: 1e-6 };
  const same = scaleRecipe(a1, getProfile('imagenet'));
  assert.deepEqual({ ...same, rules: undefined }, { ...a1, rules: undefined, optimizer: undefined });
  assert.deepEqual(same.rules, []);
  const e = scaleRecipe(a1, getProfile('embedded'));
  assert.equal(e.epochs, 15);
  assert.equal(e.warmupEpochs, 5 * 15 / 600);
  assert.equal(e.trainSize, 56);
  // embedded keeps the peak LR (rule 'none'); the tiny test profile uses the sqrt rule.
  assert.equal(e.lr, 5e-3);
  assert.equal(e.rules.length, 4);
  assert.match(e.rules[3], /peak LR kept at 0\.005 \('none' rule/);
  const t = scaleRecipe(a1, getProfile('tiny'));
  assert.ok(Math.abs(t.lr - 5e-3 * Math.sqrt(16 / 2048)) < 1e-15, `sqrt rule: ${t.lr}`);
  assert.ok(Math.abs(t.warmupLr - 1e-4 * Math.sqrt(16 / 2048)) < 1e-15);
  const sgd = scaleRecipe({ ...a1, globalBatch: 256, lr: 0.1, optimizer: 'sgd' }, getProfile('embedded'));
  assert.ok(Math.abs(sgd.lr - 0.1 * 64 / 256) < 1e-15, `SGD: linear rule, got ${sgd.lr}`);
  const a3 = scaleRecipe({ ...a1, epochs: 100, trainSize: 160, lr: 8e-3 }, getProfile('embedded'));
  assert.equal(a3.trainSize, 40);
  assert.equal(a3.testSize, 56);
  assert.equal(a3.epochs, 3);
  assert.throws(() => getProfile('huge'), /unknown profile 'huge' \(known: embedded, tiny, imagenet\)/);
});
