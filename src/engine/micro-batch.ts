// Gradient accumulation over micro-batches.
//
// Why: the wasm heap is capped at 4 GiB (32-bit addressing), and a ResNet-50 training step at
// 128 px keeps ~0.2 GB of activations per image for the backward pass, so batch 16 already
// nears the cap and more crashes. The same holds, at other sizes, for GPU memory. A batch is
// therefore run as micro-batches whose gradients are summed.
//
// The maths: the loss of a batch of B samples is the mean of per-sample losses, so with
// micro-batches of sizes b_i and mean losses L_i,
//     L = sum_i (b_i / B) * L_i     and     dL/dw = sum_i (b_i / B) * dL_i/dw.
// Weighting by b_i / B (not 1 / count) keeps a short last micro-batch exact.
//
// One thing does change: BatchNorm normalises each micro-batch with its own statistics, exactly
// as data-parallel training normalises each device's share (timm's default, no SyncBN). Choose
// micro-batches the size of the per-device batch you mean to reproduce where memory allows.
import * as tf from '@tensorflow/tfjs-core';

/** A contiguous slice of a batch: samples [start, start + size). */
export interface MicroBatch {
  index: number;
  start: number;
  size: number;
}

/**
 * Splits a batch into micro-batches of at most `maxSize` samples, as even as possible
 * (10 with max 4 gives 4, 3, 3: same count of passes as 4, 4, 2, smaller peak).
 */
export function planMicroBatches(batchSize: number, maxSize: number): MicroBatch[] {
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new RangeError(`planMicroBatches: batch size must be a positive integer, got ${batchSize}`);
  if (!Number.isInteger(maxSize) || maxSize < 1) throw new RangeError(`planMicroBatches: micro-batch size must be a positive integer, got ${maxSize}`);
  const count = Math.ceil(batchSize / maxSize);
  const base = Math.floor(batchSize / count);
  const extra = batchSize % count; // the first `extra` micro-batches get one more sample
  const out: MicroBatch[] = [];
  let start = 0;
  for (let index = 0; index < count; index++) {
    const size = base + (index < extra ? 1 : 0);
    out.push({ index, start, size });
    start += size;
  }
  return out;
}

export interface AccumulatedGradients {
  /** Mean loss over the whole batch (a scalar the caller owns). */
  loss: tf.Scalar;
  /** Gradient of the mean loss, keyed by variable name (tensors the caller owns). */
  grads: tf.NamedTensorMap;
}

/**
 * Runs `lossOf` once per micro-batch under a gradient tape and returns the batch-mean loss and
 * gradient. `lossOf(mb)` must return the MEAN loss over that micro-batch's samples; anything it
 * allocates is freed when it returns (tf.keep what must outlive it, e.g. BN statistics).
 * Only the running sums and one micro-batch's intermediates are alive at any time.
 */
export function accumulateGradients(
  plan: readonly MicroBatch[],
  lossOf: (mb: MicroBatch) => tf.Scalar,
  vars: tf.Variable[],
): AccumulatedGradients {
  if (plan.length === 0) throw new RangeError('accumulateGradients: empty micro-batch plan');
  const total = plan.reduce((n, mb) => n + mb.size, 0);
  let loss: tf.Scalar | null = null;
  let grads: tf.NamedTensorMap | null = null;
  try {
    for (const mb of plan) {
      const weight = mb.size / total;
      const r = tf.variableGrads(() => lossOf(mb), vars);
      // A single micro-batch (weight 1) is returned untouched: bit-identical to no accumulation.
      const next = tf.tidy(() => {
        const scale = <T extends tf.Tensor>(t: T): T => (weight === 1 ? t.clone() : (tf.mul(t, weight) as T));
        const l = loss === null ? scale(r.value) : (tf.add(loss, scale(r.value)) as tf.Scalar);
        const g: tf.NamedTensorMap = {};
        for (const name of Object.keys(r.grads)) {
          g[name] = grads === null ? scale(r.grads[name]) : tf.add(grads[name], scale(r.grads[name]));
        }
        return { l, g };
      });
      r.value.dispose();
      tf.dispose(Object.values(r.grads));
      if (loss !== null) loss.dispose();
      if (grads !== null) tf.dispose(Object.values(grads));
      loss = next.l;
      grads = next.g;
    }
  } catch (e) {
    if (loss !== null) loss.dispose();
    if (grads !== null) tf.dispose(Object.values(grads));
    throw e;
  }
  return { loss: loss as tf.Scalar, grads: grads as tf.NamedTensorMap };
}

/** The wasm heap's hard ceiling: 32-bit addresses (Emscripten's maximum memory). */
export const WASM_HEAP_LIMIT_BYTES = 4 * 1024 ** 3;

/**
 * The largest micro-batch whose training step fits a memory budget, given what one sample
 * costs (activations kept for backward, measured or estimated) and what is resident anyway
 * (weights, gradients, optimizer state). At least 1; capped at `batchSize` when given.
 */
export function maxMicroBatchSize(opts: { bytesPerSample: number; residentBytes: number; budgetBytes: number; batchSize?: number }): number {
  const { bytesPerSample, residentBytes, budgetBytes, batchSize } = opts;
  if (!(bytesPerSample > 0)) throw new RangeError(`maxMicroBatchSize: bytesPerSample must be > 0, got ${bytesPerSample}`);
  const free = budgetBytes - residentBytes;
  if (free < bytesPerSample) {
    throw new RangeError(
      `maxMicroBatchSize: not even one sample fits (${(bytesPerSample / 2 ** 20).toFixed(0)} MiB per sample, ` +
        `${(Math.max(0, free) / 2 ** 20).toFixed(0)} MiB free of ${(budgetBytes / 2 ** 20).toFixed(0)} MiB)`,
    );
  }
  const n = Math.floor(free / bytesPerSample);
  return batchSize === undefined ? n : Math.min(n, batchSize);
}
