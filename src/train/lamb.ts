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
//
// Two implementations of the same maths:
// - 'direct' (wasm and cpu backends): loops over the tensors' own storage (src/engine/lamb):
//   one pass for the global norm, then per tensor one pass updating m and v IN PLACE and
//   writing u to a scratch array (with ||p|| and ||u||), and one pass writing the new p into a
//   fresh tensor that the variable is assigned (parameters may share their buffer with other
//   tensors, the moments are the optimizer's own). ~3 passes instead of ~15 tfjs ops.
// - 'ops': tfjs ops, for backends whose storage JS cannot reach (tfjs-node), and as a check.
// The only value read back to JS in either is the global norm (for the clip and the logs).
import * as tf from '@tensorflow/tfjs-core';
import { SlotOptimizer, type Grads, type NamedParam, type StepInfo } from './optimizer-base.ts';
import type { ParamGroup } from './param-groups.ts';
import { directStorage, type DirectStorage } from '../engine/lamb/storage.ts';
import { applyUpdate, lambCoefficients, lambMoments, lambMomentsAndApply, sumOfSquares, trustRatio } from '../engine/lamb/math.ts';

/** 'auto': direct storage loops where the backend allows them, else tfjs ops. 'ops': always tfjs ops. */
export type LambPath = 'auto' | 'ops';

export interface LambOptions {
  betas?: [number, number];
  eps?: number;
  /** Global clip inside the optimizer; null turns it off. timm default 1.0. */
  maxGradNorm?: number | null;
  /** Which implementation runs (default 'auto'); 'ops' exists for tests and comparisons. */
  path?: LambPath;
}

/** timm's defaults, as the lamb goldens list them. */
export const LAMB_DEFAULTS = { betas: [0.9, 0.999] as [number, number], eps: 1e-6, maxGradNorm: 1.0 };

/** A parameter with its gradient (reshaped to the parameter's shape when it came flat). */
interface Pair {
  p: NamedParam;
  g: tf.Tensor;
  /** True when g is a reshape we made (and must dispose). */
  ownG: boolean;
}

export class Lamb extends SlotOptimizer {
  readonly kind = 'lamb' as const;
  readonly betas: [number, number];
  readonly eps: number;
  readonly maxGradNorm: number | null;
  readonly path: LambPath;
  /** Which implementation the last step ran ('direct' or 'ops'); null before the first. */
  lastStepPath: 'direct' | 'ops' | null = null;
  /** The update u of one decayed tensor between passes 2 and 3; grown to the largest one, kept across steps. */
  private scratch = new Float32Array(0);

  constructor(groups: readonly ParamGroup<NamedParam>[], opts: LambOptions = {}) {
    super(groups);
    this.betas = opts.betas ?? LAMB_DEFAULTS.betas;
    this.eps = opts.eps ?? LAMB_DEFAULTS.eps;
    this.maxGradNorm = opts.maxGradNorm === undefined ? LAMB_DEFAULTS.maxGradNorm : opts.maxGradNorm;
    this.path = opts.path ?? 'auto';
    if (this.maxGradNorm !== null && !(this.maxGradNorm > 0)) throw new RangeError(`Lamb: maxGradNorm must be > 0 or null, got ${this.maxGradNorm}`);
    if (this.path !== 'auto' && this.path !== 'ops') throw new RangeError(`Lamb: path must be 'auto' or 'ops', got '${this.path}'`);
  }

  step(grads: Grads, lr: number): StepInfo {
    if (!(lr >= 0) || !Number.isFinite(lr)) throw new RangeError(`Lamb.step: lr ${lr}`);
    const pairs: Pair[][] = [];
    try {
      for (const group of this.groups) {
        const row: Pair[] = [];
        pairs.push(row);
        for (const p of group.params) {
          const g = this.gradFor(grads, p);
          row.push({ p, g, ownG: g !== grads[p.name] });
        }
      }
      const storage = this.path === 'auto' ? directStorage() : null;
      if (storage && pairs.every((row) => row.every(({ p, g }) => storage.view(g) !== null && storage.view(p.variable) !== null))) {
        this.lastStepPath = 'direct';
        return this.stepDirect(pairs, lr, storage);
      }
      this.lastStepPath = 'ops';
      return this.stepWithOps(pairs, lr);
    } finally {
      for (const row of pairs) for (const { g, ownG } of row) if (ownG) g.dispose();
    }
  }

  /** Clip divisor from the global norm, computed in double like torch's Python-side scalar. */
  private clipDivisorFor(globalGradNorm: number): number {
    return this.maxGradNorm === null ? 1 : Math.max(globalGradNorm / this.maxGradNorm, 1);
  }

  private stepDirect(pairs: Pair[][], lr: number, storage: DirectStorage): StepInfo {
    // Pass 1: the global norm (no allocation in this loop, so the wasm views stay valid).
    let normSq = 0;
    for (const row of pairs) for (const { g } of row) normSq += sumOfSquares(storage.view(g)!);
    const globalGradNorm = Math.sqrt(normSq);
    const clipDivisor = this.clipDivisorFor(globalGradNorm);

    this.groups.forEach((group, gi) => {
      const k = lambCoefficients(this.betas, this.eps, ++this.groupSteps[gi], clipDivisor, group.weightDecay);
      for (const { p, g } of pairs[gi]) {
        const mVar = this.ownedSlot(p, 'exp_avg', storage);
        const vVar = this.ownedSlot(p, 'exp_avg_sq', storage);
        // Allocate before taking views: on wasm an allocation can move the heap.
        const next = storage.allocate(p.variable.shape);
        const [gv, m, v, pv] = [storage.view(g)!, storage.view(mVar)!, storage.view(vVar)!, storage.view(p.variable)!];
        if (k.weightDecay === 0) {
          lambMomentsAndApply(gv, m, v, pv, lr, next.values, k);
        } else {
          if (this.scratch.length < pv.length) this.scratch = new Float32Array(pv.length);
          const u = this.scratch.subarray(0, pv.length);
          const trust = trustRatio(lambMoments(gv, m, v, pv, u, k));
          applyUpdate(pv, u, lr * trust, next.values);
        }
        p.variable.assign(next.tensor);
        next.tensor.dispose();
      }
    });
    return { globalGradNorm, clipDivisor };
  }

  /**
   * The slot variable, with data no other tensor shares, so it can be updated in place.
   * (A variable made from or assigned a tensor shares that tensor's buffer: copy it once.)
   */
  private ownedSlot(p: NamedParam, slotName: string, storage: DirectStorage): tf.Variable {
    const slot = this.slot(p, slotName);
    if (storage.refCount(slot) > 1 || storage.view(slot) === null) {
      const copy = storage.allocate(slot.shape);
      copy.values.set(slot.dataSync() as Float32Array);
      slot.assign(copy.tensor);
      copy.tensor.dispose();
    }
    return slot;
  }

  private stepWithOps(pairs: Pair[][], lr: number): StepInfo {
    const [b1, b2] = this.betas;
    const normSq = tf.tidy(() => {
      let acc: tf.Tensor = tf.scalar(0);
      for (const row of pairs) for (const { g } of row) acc = tf.add(acc, tf.sum(tf.square(g)));
      return acc;
    });
    const globalGradNorm = Math.sqrt(normSq.dataSync()[0]);
    normSq.dispose();
    // Applied as one float32 divisor.
    const clipDivisor = this.clipDivisorFor(globalGradNorm);

    this.groups.forEach((group, gi) => {
      const t = ++this.groupSteps[gi];
      const bc1 = 1 - b1 ** t;
      const sqrtBc2 = Math.sqrt(1 - b2 ** t);
      const wd = group.weightDecay;
      for (const { p, g: grad } of pairs[gi]) {
        const m = this.slot(p, 'exp_avg');
        const v = this.slot(p, 'exp_avg_sq');
        tf.tidy(() => {
          const g = clipDivisor === 1 ? grad : tf.div(grad, clipDivisor);
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
