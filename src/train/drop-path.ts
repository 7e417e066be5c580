// Stochastic depth ("drop path"), as timm's DropPath on a residual branch.
//
// In training, each SAMPLE keeps its residual branch with probability keep = 1 - p; a kept
// branch is multiplied by 1/keep so the expected output is unchanged (scaleByKeep), a dropped
// one becomes zero. In evaluation, or with p = 0, the branch passes through untouched.
// The keep mask is drawn from an Rng the caller passes (one stream per block and step), so
// the draws do not depend on worker count; the golden adapter passes timm's mask directly.
import * as tf from '@tensorflow/tfjs-core';
import type { Rng } from '../util/rng.ts';

/**
 * Per-block rates rising linearly from 0 (first block) to maxRate (last block):
 * rate_k = maxRate * k / (n - 1), timm's rule for ResNets (n = 16 blocks for ResNet-50).
 */
export function dropPathRates(nBlocks: number, maxRate: number): number[] {
  if (!Number.isInteger(nBlocks) || nBlocks < 1) throw new RangeError(`dropPathRates: nBlocks must be >= 1, got ${nBlocks}`);
  if (!(maxRate >= 0 && maxRate <= 1)) throw new RangeError(`dropPathRates: maxRate ${maxRate} outside [0, 1]`);
  if (nBlocks === 1) return [0];
  return Array.from({ length: nBlocks }, (_, k) => (maxRate * k) / (nBlocks - 1));
}

/** Bernoulli(1 - p) per sample from `rng`: 1 keeps the sample's branch, 0 drops it. */
export function dropPathKeepMask(rng: Rng, batch: number, dropProb: number): Float32Array {
  if (!(dropProb >= 0 && dropProb <= 1)) throw new RangeError(`dropPathKeepMask: p ${dropProb} outside [0, 1]`);
  const keep = 1 - dropProb;
  const mask = new Float32Array(batch);
  for (let i = 0; i < batch; i++) mask[i] = rng.random() < keep ? 1 : 0;
  return mask;
}

/**
 * The same Bernoulli(1 - p) mask with one stream per sample (stream i draws once per block,
 * in block order): the model keys each sample's stream by its position in the epoch, so a
 * sample's drop decisions do not depend on how the batch is split into micro-batches.
 */
export function dropPathKeepMaskFromStreams(rngs: readonly Rng[], dropProb: number): Float32Array {
  if (!(dropProb >= 0 && dropProb <= 1)) throw new RangeError(`dropPathKeepMaskFromStreams: p ${dropProb} outside [0, 1]`);
  const keep = 1 - dropProb;
  return Float32Array.from(rngs, (r) => (r.random() < keep ? 1 : 0));
}

export interface DropPathOptions {
  training: boolean;
  /** Divide kept branches by the keep probability (timm default true). */
  scaleByKeep?: boolean;
}

/**
 * x: [B, ...] residual branch. keepMask: one 0/1 value per sample (ignored, and may be
 * omitted, in eval or when p = 0). Returns x itself when it is the identity.
 */
export function dropPath(x: tf.Tensor, dropProb: number, keepMask: Float32Array | null, opts: DropPathOptions): tf.Tensor {
  if (!opts.training || dropProb === 0) return x;
  if (!(dropProb > 0 && dropProb <= 1)) throw new RangeError(`dropPath: p ${dropProb} outside [0, 1]`);
  const b = x.shape[0];
  if (!keepMask || keepMask.length !== b) throw new RangeError(`dropPath: need a keep mask of length ${b} in training, got ${keepMask?.length ?? 'none'}`);
  const keep = 1 - dropProb;
  // Scale the mask first (float32, like torch's random_tensor.div_(keep_prob)), then multiply.
  const scale = (opts.scaleByKeep ?? true) && keep > 0 ? 1 / keep : 1;
  const scaled = new Float32Array(b);
  for (let i = 0; i < b; i++) scaled[i] = keepMask[i] * scale;
  return tf.tidy(() => tf.mul(x, tf.tensor(scaled, [b, ...x.shape.slice(1).map(() => 1)])));
}

/** Convenience for model code: draws the mask from `rng` and applies it. */
export function dropPathWithRng(x: tf.Tensor, dropProb: number, rng: Rng | undefined, opts: DropPathOptions): tf.Tensor {
  if (!opts.training || dropProb === 0) return x;
  if (!rng) throw new Error('dropPathWithRng: training with p > 0 needs an Rng');
  return dropPath(x, dropProb, dropPathKeepMask(rng, x.shape[0], dropProb), opts);
}
