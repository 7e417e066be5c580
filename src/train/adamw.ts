// AdamW, PyTorch semantics (decoupled weight decay), on tf.Variables. With t the step:
//   p *= 1 - lr*wd
//   m = b1*m + (1-b1)*g;  v = b2*v + (1-b2)*g^2
//   p -= (lr / (1-b1^t)) * m / (sqrt(v)/sqrt(1-b2^t) + eps)
import * as tf from '@tensorflow/tfjs-core';
import { SlotOptimizer, type Grads, type NamedParam, type StepInfo } from './optimizer-base.ts';
import type { ParamGroup } from './param-groups.ts';

export interface AdamWOptions {
  betas?: [number, number];
  eps?: number;
}

export class AdamW extends SlotOptimizer {
  readonly kind = 'adamw' as const;
  readonly betas: [number, number];
  readonly eps: number;

  constructor(groups: readonly ParamGroup<NamedParam>[], opts: AdamWOptions = {}) {
    super(groups);
    this.betas = opts.betas ?? [0.9, 0.999];
    this.eps = opts.eps ?? 1e-8;
  }

  step(grads: Grads, lr: number): StepInfo {
    if (!(lr >= 0) || !Number.isFinite(lr)) throw new RangeError(`AdamW.step: lr ${lr}`);
    const [b1, b2] = this.betas;
    this.groups.forEach((group, gi) => {
      const t = ++this.groupSteps[gi];
      const stepSize = lr / (1 - b1 ** t);
      const sqrtBc2 = Math.sqrt(1 - b2 ** t);
      for (const p of group.params) {
        const m = this.slot(p, 'exp_avg');
        const v = this.slot(p, 'exp_avg_sq');
        tf.tidy(() => {
          const g = this.gradFor(grads, p);
          const decayed = group.weightDecay !== 0 ? tf.mul(p.variable, 1 - lr * group.weightDecay) : p.variable;
          const mNew = tf.add(tf.mul(m, b1), tf.mul(g, 1 - b1));
          const vNew = tf.add(tf.mul(v, b2), tf.mul(tf.square(g), 1 - b2));
          m.assign(mNew);
          v.assign(vNew);
          const denom = tf.add(tf.div(tf.sqrt(vNew), sqrtBc2), this.eps);
          p.variable.assign(tf.sub(decayed, tf.mul(tf.div(mNew, denom), stepSize)));
        });
      }
    });
    return { globalGradNorm: null, clipDivisor: null };
  }
}
