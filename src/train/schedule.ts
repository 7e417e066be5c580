// Learning-rate schedules: timm's cosine (with warmup overlaid, cooldown at min LR) and
// the step schedule of the earlier 90-epoch procedures.
//
// Why "overlaid": timm evaluates the cosine on the raw index t, and during warmup simply
// replaces it by the linear ramp. So the first post-warmup LR is cos(pi*W/T)-decayed, never
// the exact peak (A1: 4.99914e-3, not 5e-3). A "prefix" warmup would shift the cosine by W.
//
// Index t is the epoch (stepOn 'epoch': LR set once per epoch, timm's default) or the
// global optimizer update (stepOn 'update': lengths are multiplied by updates per epoch,
// like timm's --sched-on-updates). Fractional epoch counts are accepted on purpose: scaled
// runs may warm up for 0.4 epochs, which per update is still a proper ramp.
// No tfjs here: this is plain arithmetic on doubles, like timm's Python floats.

/** The schedule fields of a recipe (structural, so scaled copies with fractional epochs fit). */
export interface ScheduleParams {
  /** Peak LR (recipe.optimizer.lr). */
  lr: number;
  /** Cosine / step length in epochs, cooldown not included (recipe.epochs). */
  epochs: number;
  schedule:
    | {
        kind: 'cosine';
        warmupEpochs: number;
        warmupLr: number;
        minLr: number;
        cooldownEpochs: number;
        stepOn: 'epoch' | 'update';
        /** timm's later --warmup-prefix: the cosine starts after the warmup and the run is that much longer. Not RSB (default false). */
        warmupPrefix?: boolean;
      }
    | { kind: 'step'; decayEpochs: number; decayRate: number; warmupEpochs: number; warmupLr: number; cooldownEpochs: number; stepOn: 'epoch' | 'update' };
}

export interface LrSchedule {
  readonly stepOn: 'epoch' | 'update';
  /** Epochs a run takes: epochs + cooldown epochs (rounded up when fractional). */
  readonly totalEpochs: number;
  /** Optimizer updates a run takes (totalEpochs x updatesPerEpoch). */
  readonly totalUpdates: number;
  /** LR in effect for the update `updateInEpoch` (0-based) of epoch `epoch` (0-based). */
  lrAt(epoch: number, updateInEpoch: number): number;
  /** LR in effect during the whole epoch; throws for per-update schedules (the LR moves within the epoch). */
  lrForEpoch(epoch: number): number;
  /** LR in effect during global update k (0-based) = lrAt(floor(k/upe), k mod upe). */
  lrForUpdate(k: number): number;
}

/** Evaluates the schedule formula at index t, with all lengths already in t's unit. */
function cosineAt(t: number, peak: number, warmupT: number, warmupLr: number, minLr: number, tInitial: number, prefix: boolean): number {
  if (t < warmupT) return warmupLr + t * ((peak - warmupLr) / warmupT);
  const tc = prefix ? t - warmupT : t;
  if (tc >= tInitial) return minLr; // cooldown (timm: past the single allowed cycle)
  return minLr + 0.5 * (peak - minLr) * (1 + Math.cos((Math.PI * tc) / tInitial));
}

function stepAt(t: number, peak: number, warmupT: number, warmupLr: number, decayT: number, decayRate: number): number {
  if (t < warmupT) return warmupLr + t * ((peak - warmupLr) / warmupT);
  return peak * decayRate ** Math.floor(t / decayT);
}

export function createLrSchedule(p: ScheduleParams, updatesPerEpoch: number): LrSchedule {
  const s = p.schedule;
  if (!(Number.isInteger(updatesPerEpoch) && updatesPerEpoch >= 1)) {
    throw new RangeError(`createLrSchedule: updatesPerEpoch must be a positive integer, got ${updatesPerEpoch}`);
  }
  if (!(p.lr > 0) || !(p.epochs > 0)) throw new RangeError(`createLrSchedule: lr and epochs must be > 0 (lr ${p.lr}, epochs ${p.epochs})`);
  if (s.warmupEpochs < 0 || s.cooldownEpochs < 0) throw new RangeError('createLrSchedule: negative warmup or cooldown');
  // The unit of t: one epoch, or one update (then every length is scaled).
  const unit = s.stepOn === 'update' ? updatesPerEpoch : 1;
  const warmupT = s.warmupEpochs * unit;
  const formula =
    s.kind === 'cosine'
      ? (t: number) => cosineAt(t, p.lr, warmupT, s.warmupLr, s.minLr, p.epochs * unit, s.warmupPrefix === true)
      : (t: number) => stepAt(t, p.lr, warmupT, s.warmupLr, s.decayEpochs * unit, s.decayRate);
  const prefixEpochs = s.kind === 'cosine' && s.warmupPrefix ? s.warmupEpochs : 0;
  const totalEpochs = Math.ceil(p.epochs + prefixEpochs + s.cooldownEpochs);
  const lrAt = (epoch: number, updateInEpoch: number) => {
    if (!Number.isInteger(epoch) || epoch < 0) throw new RangeError(`lrAt: epoch must be a non-negative integer, got ${epoch}`);
    if (!Number.isInteger(updateInEpoch) || updateInEpoch < 0 || updateInEpoch >= updatesPerEpoch) {
      throw new RangeError(`lrAt: update ${updateInEpoch} outside 0..${updatesPerEpoch - 1}`);
    }
    return formula(s.stepOn === 'update' ? epoch * updatesPerEpoch + updateInEpoch : epoch);
  };
  return {
    stepOn: s.stepOn,
    totalEpochs,
    totalUpdates: totalEpochs * updatesPerEpoch,
    lrAt,
    lrForEpoch(epoch) {
      if (s.stepOn === 'update') throw new Error('lrForEpoch: this schedule changes the LR every update; use lrAt or lrForUpdate');
      return lrAt(epoch, 0);
    },
    lrForUpdate(k) {
      if (!Number.isInteger(k) || k < 0) throw new RangeError(`lrForUpdate: k must be a non-negative integer, got ${k}`);
      return lrAt(Math.floor(k / updatesPerEpoch), k % updatesPerEpoch);
    },
  };
}
