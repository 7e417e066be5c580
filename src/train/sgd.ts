// SGD with momentum, PyTorch semantics (the earlier 90-epoch procedures), on tf.Variables:
//   d = g + wd*p                       (L2 on the gradient, coupled)
//   buf = d on the first step, else momentum*buf + d      (no dampening)
//   d = d + momentum*buf if nesterov, else buf
//   p -= lr*d
import * as tf from '@tensorflow/tfjs-core';
import { SlotOptimizer, type Grads, type NamedParam, type StepInfo } from './optimizer-base.ts';
import type { ParamGroup } from './param-groups.ts';

export interface SgdOptions {
  momentum?: number;
  nesterov?: boolean;
}

export class Sgd extends SlotOptimizer {
  readonly kind = 'sgd' as const;
  readonly momentum: number;
  readonly nesterov: boolean;

  constructor(groups: readonly ParamGroup<NamedParam>[], opts: SgdOptions = {}) {
    super(groups);
    this.momentum = opts.momentum ?? 0.9;
    this.nesterov = opts.nesterov ?? false;
    if (this.nesterov && this.momentum <= 0) throw new RangeError('Sgd: Nesterov needs momentum > 0');
  }

  step(grads: Grads, lr: number): StepInfo {
    if (!(lr >= 0) || !Number.isFinite(lr)) throw new RangeError(`Sgd.step: lr ${lr}`);
    this.groups.forEach((group, gi) => {
      this.groupSteps[gi]++;
      for (const p of group.params) {
        const first = !this.hasSlot(p, 'momentum_buffer');
        const buf = this.momentum !== 0 ? this.slot(p, 'momentum_buffer') : null;
        tf.tidy(() => {
          let d = this.gradFor(grads, p);
          if (group.weightDecay !== 0) d = tf.add(d, tf.mul(p.variable, group.weightDecay));
          if (buf) {
            const bNew = first ? d : tf.add(tf.mul(buf, this.momentum), d);
            buf.assign(bNew);
            d = this.nesterov ? tf.add(d, tf.mul(bNew, this.momentum)) : bNew;
          }
          p.variable.assign(tf.sub(p.variable, tf.mul(d, lr)));
        });
      }
    });
    return { globalGradNorm: null, clipDivisor: null };
  }
}
