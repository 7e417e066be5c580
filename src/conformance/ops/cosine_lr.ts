// cosine_lr goldens: timm's scheduler as train.py builds it from an argv. The settings are
// read from `expected.resolved` (what timm's own argument parser produced), so this adapter
// tests the schedule maths, not a re-implementation of train.py's defaults.
import { Type } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import type { GoldenCase } from '../format.ts';
import type { OpContext } from '../registry.ts';
import { allClose, exactEqual, type Check } from '../compare.ts';
import { createLrSchedule } from '../../train/schedule.ts';

const Resolved = Type.Object({
  sched: Type.Literal('cosine'),
  lr: Type.Number(),
  epochs_arg: Type.Integer(),
  warmup_epochs: Type.Number(),
  warmup_lr: Type.Number(),
  min_lr: Type.Number(),
  cooldown_epochs: Type.Number(),
  warmup_prefix: Type.Boolean(),
  // Cycles, k-decay and noise are timm extras no recipe uses: only their neutral values are accepted.
  cycle_limit: Type.Literal(1),
  cycle_mul: Type.Optional(Type.Literal(1)),
  k_decay: Type.Literal(1),
  noise: Type.Optional(Type.Null()),
  step_on_epochs: Type.Boolean(),
});

export function run(c: GoldenCase, _ctx: OpContext): Check[] {
  const r = c.expected.resolved;
  if (!Value.Check(Resolved, r)) {
    const e = [...Value.Errors(Resolved, r)][0];
    throw new Error(`cosine_lr/${c.case}: expected.resolved unsupported at ${e?.path}: ${e?.message}`);
  }
  const upe = Number(c.params.updates_per_epoch) || 1;
  const sched = createLrSchedule(
    {
      lr: r.lr,
      epochs: r.epochs_arg,
      schedule: {
        kind: 'cosine',
        warmupEpochs: r.warmup_epochs,
        warmupLr: r.warmup_lr,
        minLr: r.min_lr,
        cooldownEpochs: r.cooldown_epochs,
        stepOn: r.step_on_epochs ? 'epoch' : 'update',
        warmupPrefix: r.warmup_prefix,
      },
    },
    upe,
  );
  const checks: Check[] = [exactEqual('num_epochs_trained', sched.totalEpochs, c.expected.num_epochs_trained)];
  const perEpoch = c.expected.lr_per_epoch as number[] | undefined;
  const perUpdate = c.expected.lr_per_update as number[] | undefined;
  if (perEpoch) {
    const got = perEpoch.map((_, e) => sched.lrAt(e, 0));
    checks.push(allClose('lr_per_epoch', got, perEpoch, c.tolerance));
  }
  if (perUpdate) {
    checks.push(exactEqual('update count', sched.totalUpdates, perUpdate.length));
    checks.push(allClose('lr_per_update', perUpdate.map((_, k) => sched.lrForUpdate(k)), perUpdate, c.tolerance));
  }
  return checks;
}
