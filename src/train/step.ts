// One micro-batch's contribution to an optimizer update: normalise -> forward (training
// mode, stochastic depth) -> loss -> gradients, accumulated sample-weighted.
//
// The same code runs in the lead process (one device) and in every data-parallel worker
// (src/engine/parallel-worker.ts), so 1 and N workers differ only in the order float sums
// are taken. What makes the split irrelevant:
//   - micro-batches are fixed by the global batch, not by the worker count;
//   - the drop-path mask of a sample is drawn from a stream keyed by (seed, epoch, the
//     sample's position in the epoch), not by which worker holds it;
//   - the gradient returned is sum_mb n_mb * grad(mean loss of mb); the lead divides the
//     total by the global batch, which is the gradient of the mean loss over the global batch.
import { tf } from '../model/tf.ts';
import type { ResNet } from '../model/resnet.ts';
import type { BatchStats } from '../model/layers/batch-norm.ts';
import { streamFor } from '../util/rng.ts';
import { normalizationAffine } from '../data/transforms/normalize.ts';
import { binaryCrossEntropy } from './bce.ts';
import { softTargetCrossEntropy } from './cross-entropy.ts';
import { directStorage } from '../engine/lamb/storage.ts';

/** A micro-batch as it travels to a replica: pixels already mixed (uint8), dense targets. */
export interface MicroBatch {
  epoch: number;
  n: number;
  height: number;
  width: number;
  /** n*H*W*3 uint8 RGB, NHWC. */
  images: Uint8Array;
  /** n*C soft targets (mixed, smoothed); thresholded later by BCE. */
  targets: Float32Array;
  /** Position of each sample in the epoch's order: keys its drop-path stream. */
  positions: Int32Array;
}

export interface StepConfig {
  numClasses: number;
  mean: readonly [number, number, number];
  std: readonly [number, number, number];
  loss: { kind: 'bce'; targetThreshold: number | null } | { kind: 'ce' };
  seed: number;
}

export interface StepResult {
  /** Sum over samples of the loss (mean loss * n). */
  lossSum: number;
  /** Samples whose argmax equals the argmax of their target (the dominant label of a mix). */
  correct: number;
  n: number;
}

/** NHWC uint8 -> normalised float32 on the backend: x * 1/(255 std) - mean/std per channel. */
export function normaliseBatch(images: Uint8Array, n: number, h: number, w: number, mean: readonly [number, number, number], std: readonly [number, number, number]): tf.Tensor4D {
  const { scale, shift } = normalizationAffine(mean, std);
  return tf.tidy(() => {
    const x = tf.tensor4d(Float32Array.from(images), [n, h, w, 3], 'float32');
    return tf.add(tf.mul(x, tf.tensor1d(scale)), tf.tensor1d(shift)) as tf.Tensor4D;
  });
}

/**
 * Gradient accumulator for the model's parameters: holds sum n_mb * grad_mb as tensors,
 * in the order of model.parameters.
 */
export class GradAccumulator {
  private sums: tf.Tensor[] | null = null;
  lossSum = 0;
  correct = 0;
  samples = 0;

  add(grads: tf.Tensor[], weight: number): void {
    if (this.sums === null) {
      this.sums = grads.map((g) => tf.keep(tf.mul(g, weight)));
      return;
    }
    const storage = directStorage();
    if (storage && this.sums.every((s, i) => storage.refCount(s) === 1 && storage.view(s) !== null && storage.view(grads[i]) !== null)) {
      // In place: the sums are ours alone (refCount 1). One pass per tensor instead of two tfjs
      // ops each writing a fresh 100 MB set (ResNet-50) per micro-batch. Same float32 roundings
      // as tf.add(s, tf.mul(g, w)): the product is rounded (fround), then the Float32Array store
      // rounds the sum (a double sum of two floats rounds to float32 like a float32 add).
      this.sums.forEach((s, i) => addScaledInPlace(storage.view(s)!, storage.view(grads[i])!, weight));
      return;
    }
    const next = this.sums.map((s, i) => tf.keep(tf.tidy(() => tf.add(s, tf.mul(grads[i], weight)))));
    for (const s of this.sums) s.dispose();
    this.sums = next;
  }

  /** The sums, in parameter order (null before the first add). Ownership stays here. */
  get tensors(): tf.Tensor[] | null {
    return this.sums;
  }

  /** Writes the sums into one flat Float32Array at the given offsets (used for cross-thread transfer). */
  writeFlat(out: Float32Array, offsets: readonly number[]): void {
    if (this.sums === null) {
      out.fill(0);
      return;
    }
    // Straight from the backend's storage where reachable: dataSync() would copy each tensor first.
    const storage = directStorage();
    this.sums.forEach((s, i) => out.set(storage?.view(s) ?? (s.dataSync() as Float32Array), offsets[i]));
  }

  reset(): void {
    if (this.sums) for (const s of this.sums) s.dispose();
    this.sums = null;
    this.lossSum = 0;
    this.correct = 0;
    this.samples = 0;
  }
}

/** s[k] += fround(g[k] * w), stored as float32. */
export function addScaledInPlace(s: Float32Array, g: Float32Array, w: number): void {
  const n = s.length;
  for (let k = 0; k < n; k++) s[k] += Math.fround(g[k] * w);
}

/**
 * Forward + backward of one micro-batch on `model` (training mode), adding n * grad to `acc`.
 * BN running statistics are updated from this micro-batch's statistics (PyTorch semantics),
 * outside the gradient tape.
 */
export function accumulateMicroBatch(model: ResNet, mb: MicroBatch, cfg: StepConfig, acc: GradAccumulator): StepResult {
  const C = cfg.numClasses;
  if (mb.targets.length !== mb.n * C) throw new Error(`micro-batch: ${mb.targets.length} target values for ${mb.n} samples x ${C} classes`);
  let stats: BatchStats[] = [];
  let logitsData: Float32Array | null = null;
  const lossValue = tf.tidy(() => {
    const x = normaliseBatch(mb.images, mb.n, mb.height, mb.width, cfg.mean, cfg.std);
    const targets = tf.tensor2d(mb.targets, [mb.n, C]);
    const dropPath = { rng: (i: number) => streamFor(cfg.seed, 'dropPath', mb.epoch, mb.positions[i]) };
    const { value, grads } = tf.variableGrads(() => {
      const r = model.forward(x, { training: true, dropPath });
      stats = r.batchStats;
      logitsData = r.logits.dataSync() as Float32Array;
      return cfg.loss.kind === 'bce'
        ? binaryCrossEntropy(r.logits, targets, { smoothing: 0, targetThreshold: cfg.loss.targetThreshold })
        : softTargetCrossEntropy(r.logits, targets);
    }, model.trainableVariables);
    const ordered = model.parameters.map((p) => {
      const g = grads[p.variable.name];
      if (!g) throw new Error(`no gradient for ${p.name}`);
      return g;
    });
    acc.add(ordered, mb.n);
    return value.dataSync()[0];
  });
  model.commitBatchStats(stats);
  const correct = countDominantHits(logitsData!, mb.targets, mb.n, C);
  acc.lossSum += lossValue * mb.n;
  acc.correct += correct;
  acc.samples += mb.n;
  return { lossSum: lossValue * mb.n, correct, n: mb.n };
}

/** Samples whose logits' argmax equals their target's argmax. */
export function countDominantHits(logits: Float32Array, targets: Float32Array, n: number, C: number): number {
  let hits = 0;
  for (let i = 0; i < n; i++) {
    let a = 0, b = 0;
    for (let c = 1; c < C; c++) {
      if (logits[i * C + c] > logits[i * C + a]) a = c;
      if (targets[i * C + c] > targets[i * C + b]) b = c;
    }
    if (a === b) hits++;
  }
  return hits;
}
