// The "no ingredient silently ignored" report: what each recipe loses on the tfjs backends
// today, and that every capability switch is honoured.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Value } from '@sinclair/typebox/value';
import { a1, a2, a3, getRecipe, derive } from '../../recipes/index.ts';
import { defaultCapabilities, formatUnhonoured, unhonouredIngredients, Unhonoured, TrainerCapabilities } from '../../src/train/ingredients.ts';

test('RSB recipes on wasm/cpu/tensorflow: fp16 AMP is reported, nothing else', () => {
  for (const backend of ['wasm', 'cpu', 'tensorflow']) {
    const caps = defaultCapabilities(backend);
    assert.ok(Value.Check(TrainerCapabilities, caps));
    for (const r of [a1, a2, a3]) {
      const list = unhonouredIngredients(r, caps);
      assert.deepEqual(list.map((u) => u.field), ['precision'], `${r.id} on ${backend}`);
      assert.match(list[0].reason, new RegExp(`'${backend}' backend`));
      for (const u of list) assert.ok(Value.Check(Unhonoured, u), 'entries are recordable as run metadata');
    }
  }
  assert.deepEqual(unhonouredIngredients(a1, { ...defaultCapabilities('tensorflow'), mixedPrecisionFp16: true }), []);
});

test('every unsupported field is named; capabilities switch each off', () => {
  const r = derive(getRecipe('resnet-original-90ep'), {
    id: 'everything',
    ema: { decay: 0.9998 },
    gradClip: 5,
    batchNorm: { sync: true, distBn: 'broadcast' },
    train: { colorJitter: 0.4, autoAugment: true, randomErasing: 0.25 },
  });
  const caps = { ...defaultCapabilities('cpu', 4), archs: ['resnet18'] };
  const fields = unhonouredIngredients(r, caps).map((u) => u.field);
  assert.deepEqual(fields, ['model.arch', 'ema', 'gradClip', 'batchNorm.sync', 'batchNorm.distBn', 'train.pcaLighting', 'train.colorJitter', 'train.autoAugment', 'train.randomErasing']);
  // On one device, SyncBN and epoch-end BN handling are moot.
  assert.ok(!unhonouredIngredients(r, defaultCapabilities('cpu', 1)).some((u) => u.field.startsWith('batchNorm')));
  const all: TrainerCapabilities = {
    ...caps, archs: null, ema: true, gradClip: true, syncBn: true, distBn: ['reduce', 'broadcast', 'none'],
    pcaLighting: true, colorJitter: true, autoAugment: true, randomErasing: true,
  };
  assert.deepEqual(unhonouredIngredients(r, all), []);
  assert.match(formatUnhonoured(unhonouredIngredients(r, caps)), /^9 recipe ingredient\(s\) NOT honoured on this run:\n {2}- model\.arch = "resnet50"/);
  assert.equal(formatUnhonoured([]), 'every recipe ingredient is honoured');
});
