// Binary cross-entropy with logits, as timm's BinaryCrossEntropy (the RSB loss).
//
// - Index targets become a smoothed one-hot: off = s/C, on = 1 - s + s/C. Soft (mixed)
//   targets are taken as they are: their smoothing was applied by mixup.
// - With a threshold, targets become 0/1 by `y > threshold` (strict). This is what turns
//   RSB's mixed targets into multi-label 0/1 targets and erases most of A1's smoothing.
// - Loss = mean over all B*C entries (not a sum over classes: the sum would make the
//   gradient C times larger and LAMB's global clip would bind far more often).
// - Per entry: max(z,0) - z*y + log(1 + exp(-|z|)), which never overflows.
// The gradient is given explicitly, (sigmoid(z) - y) / (B*C), rather than left to autodiff
// of the stable form: autodiff of max/|.| yields -y instead of 0.5 - y at z = 0 exactly.
import * as tf from '@tensorflow/tfjs-core';

export interface BceOptions {
  /** Label smoothing for index targets (ignored for soft targets). */
  smoothing: number;
  /** null: targets used as they are; else y := (y > threshold) ? 1 : 0. */
  targetThreshold: number | null;
}

/** Smoothed one-hot B x C for class indices: off = s/C, on = 1 - s + s/C. */
export function smoothedOneHot(labels: ArrayLike<number>, numClasses: number, smoothing: number): Float32Array {
  const off = smoothing / numClasses;
  const on = 1 - smoothing + off;
  const out = new Float32Array(labels.length * numClasses).fill(off);
  for (let i = 0; i < labels.length; i++) {
    const t = labels[i];
    if (!Number.isInteger(t) || t < 0 || t >= numClasses) {
      throw new RangeError(`label ${t} at position ${i} outside 0..${numClasses - 1}`);
    }
    out[i * numClasses + t] = on;
  }
  return out;
}

/** BCE targets as a tensor: index targets smoothed, then the optional threshold applied. */
export function bceTargets(target: Int32Array | tf.Tensor2D, numClasses: number, opts: BceOptions): tf.Tensor2D {
  return tf.tidy(() => {
    const dense: tf.Tensor2D =
      target instanceof tf.Tensor
        ? (tf.cast(target, 'float32') as tf.Tensor2D)
        : tf.tensor2d(smoothedOneHot(target, numClasses, opts.smoothing), [target.length, numClasses]);
    if (dense.shape[1] !== numClasses) throw new RangeError(`bceTargets: target has ${dense.shape[1]} classes, logits ${numClasses}`);
    return opts.targetThreshold === null ? dense : (tf.cast(tf.greater(dense, opts.targetThreshold), 'float32') as tf.Tensor2D);
  });
}

/**
 * Mean BCE-with-logits over all B*C entries against dense targets in [0, 1]. Differentiable
 * with respect to `logits` (the targets are treated as constants).
 */
export function bceWithLogits(logits: tf.Tensor2D, targets: tf.Tensor2D): tf.Scalar {
  if (logits.shape[0] !== targets.shape[0] || logits.shape[1] !== targets.shape[1]) {
    throw new RangeError(`bceWithLogits: logits [${logits.shape}] vs targets [${targets.shape}]`);
  }
  const n = logits.size;
  const f = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [z, y, save] = args as [tf.Tensor, tf.Tensor, tf.GradSaveFunc];
    save([z, y]);
    const perEntry = tf.add(tf.sub(tf.relu(z), tf.mul(z, y)), tf.log1p(tf.exp(tf.neg(tf.abs(z)))));
    return {
      value: tf.mean(perEntry) as tf.Scalar,
      gradFunc: (dy: tf.Scalar, saved: tf.Tensor[]) => {
        const [zs, ys] = saved;
        const g = tf.mul(tf.div(tf.sub(tf.sigmoid(zs), ys), n), dy);
        return [g, tf.zerosLike(ys)];
      },
    };
  });
  return f(logits, targets) as tf.Scalar;
}

/** timm BinaryCrossEntropy(smoothing, target_threshold), mean reduction. */
export function binaryCrossEntropy(logits: tf.Tensor2D, target: Int32Array | tf.Tensor2D, opts: BceOptions): tf.Scalar {
  return tf.tidy(() => bceWithLogits(logits, bceTargets(target, logits.shape[1], opts)));
}
