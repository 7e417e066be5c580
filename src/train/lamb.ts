// LAMB as timm implements it (timm/optim/lamb.py semantics; spec §2.9), on tf.Variables.
//
// One step, with t the group's step counter (starting at 1):
//   1. G = sqrt(sum over ALL parameters of ALL groups of |g|^2); every g is divided by
//      max(G / maxGradNorm, 1). This clip is inside the optimizer and always on in timm,
//      although the RSB paper lists "no gradient clipping" (that is the script's --clip-grad).
//   2. m = b1*m + (1-b1)*g;  v = b2*v + (1-b2)*g^2;
//      u = (m / (1-b1^t)) / (sqrt(v)/sqrt(1-b2^t) + eps)        (eps outside the sqrt, 1e-6)
//   3. if the group's wd != 0: u += wd*p (L2 added to the update, not decoupled), then
//      u *= |p| / |u| (trust ratio; 1 if either norm is 0, no upper clip).
//      Groups with wd = 0 (BN, biases) get neither: a plain Adam step at the full LR.
//   4. p -= lr*u.
// Everything runs as tfjs ops, so it works on any backend; the only read back to JS is the
// global norm, once per step, for logs.
import * as tf from '@tensorflow/tfjs-core';
import { SlotOptimizer, type Grads, type NamedParam, type StepInfo } from './optimizer-base.ts';
import type { ParamGroup } from './param-groups.ts';

export interface LambOptions {
  betas?: [number, number];
  eps?: number;
  /** Global clip inside the optimizer; null turns it off. timm default 1.0. */
  maxGradNorm?: number | null;
}

/** timm's defaults, as the lamb goldens list them. */
export const LAMB_DEFAULTS = { betas: [0.9, 0.999] as [number, number], eps: 1e-6, maxGradNorm: 1.0 };

export class Lamb extends SlotOptimizer {
  readonly kind = 'lamb' as const;
  readonly betas: [number, number];
  readonly eps: number;
  readonly maxGradNorm: number | null;

  constructor(groups: readonly ParamGroup<NamedParam>[], opts: LambOptions = {}) {
    super(groups);
    this.betas = opts.betas ?? LAMB_DEFAULTS.betas;
    this.eps = opts.eps ?? LAMB_DEFAULTS.eps;
    this.maxGradNorm = opts.maxGradNorm === undefined ? LAMB_DEFAULTS.maxGradNorm : opts.maxGradNorm;
    if (this.maxGradNorm !== null && !(this.maxGradNorm > 0)) throw new RangeError(`Lamb: maxGradNorm must be > 0 or null, got ${this.maxGradNorm}`);
  }

  step(grads: Grads, lr: number): StepInfo {
    if (!(lr >= 0) || !Number.isFinite(lr)) throw new RangeError(`Lamb.step: lr ${lr}`);
    const [b1, b2] = this.betas;
    const normSq = tf.tidy(() => {
      let acc: tf.Tensor = tf.scalar(0);
      for (const g of this.groups) for (const p of g.params) acc = tf.add(acc, tf.sum(tf.square(this.gradFor(grads, p))));
      return acc;
    });
    const globalGradNorm = Math.sqrt(normSq.dataSync()[0]);
    normSq.dispose();
    // Computed in double like torch's Python-side scalar; applied as one float32 divisor.
    const clipDivisor = this.maxGradNorm === null ? 1 : Math.max(globalGradNorm / this.maxGradNorm, 1);

    this.groups.forEach((group, gi) => {
      const t = ++this.groupSteps[gi];
      const bc1 = 1 - b1 ** t;
      const sqrtBc2 = Math.sqrt(1 - b2 ** t);
      const wd = group.weightDecay;
      for (const p of group.params) {
        const m = this.slot(p, 'exp_avg');
        const v = this.slot(p, 'exp_avg_sq');
        tf.tidy(() => {
          const g = clipDivisor === 1 ? this.gradFor(grads, p) : tf.div(this.gradFor(grads, p), clipDivisor);
          const mNew = tf.add(tf.mul(m, b1), tf.mul(g, 1 - b1));
          const vNew = tf.add(tf.mul(v, b2), tf.mul(tf.square(g), 1 - b2));
          m.assign(mNew);
          v.assign(vNew);
          const denom = tf.add(tf.div(tf.sqrt(vNew), sqrtBc2), this.eps);
          let update = tf.div(tf.div(mNew, bc1), denom);
          if (wd !== 0) {
            update = tf.add(update, tf.mul(p.variable, wd));
            const wNorm = tf.norm(p.variable);
            const uNorm = tf.norm(update);
            const one = tf.onesLike(wNorm);
            const trust = tf.where(tf.greater(wNorm, 0), tf.where(tf.greater(uNorm, 0), tf.div(wNorm, uNorm), one), one);
            update = tf.mul(update, trust);
          }
          p.variable.assign(tf.sub(p.variable, tf.mul(update, lr)));
        });
      }
    });
    return { globalGradNorm, clipDivisor };
  }
}
