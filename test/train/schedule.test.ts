// LR schedules beyond the cosine_lr goldens (which the conformance test runs): the spec's
// worked A1/A3 numbers, the step schedule of the 90-epoch procedures, per-update lookups
// and bad input.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createLrSchedule, type ScheduleParams } from '../../src/train/schedule.ts';
import { a1, a3, getRecipe } from '../../recipes/index.ts';

const close = (got: number, want: number, rel = 1e-12) =>
  assert.ok(Math.abs(got - want) <= rel * Math.abs(want) + 1e-15, `got ${got}, want ${want}`);

test('A1 recipe schedule reproduces the spec worked values (warmup overlaid, 10 cooldown epochs)', () => {
  const s = createLrSchedule({ lr: a1.optimizer.lr, epochs: a1.epochs, schedule: a1.schedule }, 625);
  assert.equal(s.totalEpochs, 610);
  assert.equal(s.totalUpdates, 610 * 625);
  const want = [1e-4, 1.08e-3, 2.06e-3, 3.04e-3, 4.02e-3];
  want.forEach((w, e) => close(s.lrForEpoch(e), w));
  // Not the exact peak: the cosine already decayed by cos(pi*5/600).
  close(s.lrForEpoch(5), 1e-6 + 0.5 * (5e-3 - 1e-6) * (1 + Math.cos((Math.PI * 5) / 600)));
  assert.ok(Math.abs(s.lrForEpoch(5) - 4.99914e-3) < 1e-8);
  assert.ok(Math.abs(s.lrForEpoch(300) - 2.5005e-3) < 1e-8);
  assert.ok(Math.abs(s.lrForEpoch(599) - 1.034e-6) < 1e-9);
  for (const e of [600, 605, 609]) assert.equal(s.lrForEpoch(e), 1e-6);
  // Per-epoch stepping: every update of an epoch sees the epoch's LR.
  assert.equal(s.lrAt(7, 0), s.lrAt(7, 624));
  assert.equal(s.lrForUpdate(7 * 625 + 300), s.lrForEpoch(7));
});

test('A3 recipe schedule: spec values at epochs 4, 5 and 99', () => {
  const s = createLrSchedule({ lr: a3.optimizer.lr, epochs: a3.epochs, schedule: a3.schedule }, 625);
  assert.ok(Math.abs(s.lrForEpoch(4) - 6.42e-3) < 1e-9);
  assert.ok(Math.abs(s.lrForEpoch(5) - 7.9508e-3) < 1e-7);
  assert.ok(Math.abs(s.lrForEpoch(99) - 2.97e-6) < 1e-8);
});

test('step schedule of the original procedure: x0.1 every 30 epochs', () => {
  const r = getRecipe('resnet-original-90ep');
  const s = createLrSchedule({ lr: r.optimizer.lr, epochs: r.epochs, schedule: r.schedule }, 5005);
  assert.equal(s.totalEpochs, 90);
  close(s.lrForEpoch(0), 0.1);
  close(s.lrForEpoch(29), 0.1);
  close(s.lrForEpoch(30), 0.01);
  close(s.lrForEpoch(59), 0.01);
  close(s.lrForEpoch(60), 0.001);
  close(s.lrForEpoch(89), 0.001);
});

test('per-update stepping with a fractional warmup (scaled runs) ramps within the first epoch', () => {
  const p: ScheduleParams = {
    lr: 1e-2,
    epochs: 3,
    schedule: { kind: 'cosine', warmupEpochs: 0.5, warmupLr: 0, minLr: 0, cooldownEpochs: 1, stepOn: 'update' },
  };
  const s = createLrSchedule(p, 10);
  assert.equal(s.totalUpdates, 40);
  // warmup_t = 5 updates: 0, 2e-3, 4e-3, 6e-3, 8e-3, then the cosine at t = 5 of 30.
  [0, 2e-3, 4e-3, 6e-3, 8e-3].forEach((w, k) => close(s.lrForUpdate(k), w));
  close(s.lrForUpdate(5), 0.5 * 1e-2 * (1 + Math.cos((Math.PI * 5) / 30)));
  assert.equal(s.lrForUpdate(30), 0);
  assert.equal(s.lrAt(3, 9), 0);
  assert.throws(() => s.lrForEpoch(0), /changes the LR every update/);
});

test('bad input is refused with a message', () => {
  const p: ScheduleParams = { lr: 1e-2, epochs: 3, schedule: { kind: 'step', decayEpochs: 1, decayRate: 0.5, warmupEpochs: 0, warmupLr: 0, cooldownEpochs: 0, stepOn: 'epoch' } };
  assert.throws(() => createLrSchedule(p, 0), /updatesPerEpoch must be a positive integer/);
  assert.throws(() => createLrSchedule({ ...p, lr: 0 }, 1), /lr and epochs must be > 0/);
  const s = createLrSchedule(p, 4);
  assert.throws(() => s.lrAt(0, 4), /update 4 outside 0\.\.3/);
  assert.throws(() => s.lrAt(-1, 0), /epoch must be a non-negative integer/);
});

test('warmup prefix (timm option, not RSB): the cosine starts after the warmup and the run is longer', () => {
  const s = createLrSchedule({ lr: 1, epochs: 10, schedule: { kind: 'cosine', warmupEpochs: 2, warmupLr: 0, minLr: 0, cooldownEpochs: 1, stepOn: 'epoch', warmupPrefix: true } }, 1);
  assert.equal(s.totalEpochs, 13);
  assert.equal(s.lrForEpoch(1), 0.5);
  assert.equal(s.lrForEpoch(2), 1);
  close(s.lrForEpoch(7), 0.5 * (1 + Math.cos((Math.PI * 5) / 10)));
  assert.equal(s.lrForEpoch(12), 0);
});
