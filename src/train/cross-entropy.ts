// Cross-entropy for the earlier procedures (and for logging a validation loss).
//
// - Index targets with label smoothing s: the target is (1 - s)*onehot + s/C, so the loss is
//   (1 - s)*NLL + s*mean_c(-log p_c) (PyTorch CrossEntropyLoss(label_smoothing=s) and timm's
//   LabelSmoothingCrossEntropy agree on this).
// - Soft targets (mixup output): sum_c -y_c log p_c, then mean over the batch.
// Log-probabilities come from logSoftmax, which subtracts the row max and cannot overflow.
// The gradient is written out, (softmax(z)*sum_c(y) - y)/B, so these losses differentiate
// without tfjs's registered gradient table (tfjs-core alone ships none for Node ESM).
import * as tf from '@tensorflow/tfjs-core';

/** Mean over the batch of -sum_c y_c log softmax(z)_c. Differentiable w.r.t. logits. */
export function softTargetCrossEntropy(logits: tf.Tensor2D, targets: tf.Tensor2D): tf.Scalar {
  if (logits.shape[0] !== targets.shape[0] || logits.shape[1] !== targets.shape[1]) {
    throw new RangeError(`softTargetCrossEntropy: logits [${logits.shape}] vs targets [${targets.shape}]`);
  }
  const b = logits.shape[0];
  const f = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [z, y, save] = args as [tf.Tensor, tf.Tensor, tf.GradSaveFunc];
    const logp = tf.logSoftmax(z);
    save([logp, y]);
    return {
      value: tf.mean(tf.neg(tf.sum(tf.mul(y, logp), -1))) as tf.Scalar,
      gradFunc: (dy: tf.Scalar, saved: tf.Tensor[]) => {
        const [lp, ys] = saved;
        const rowMass = tf.sum(ys, -1, true);
        const g = tf.div(tf.sub(tf.mul(tf.exp(lp), rowMass), ys), b);
        return [tf.mul(g, dy), tf.zerosLike(ys)];
      },
    };
  });
  return f(logits, targets) as tf.Scalar;
}

/** Dense label-smoothed targets for class indices: (1 - s)*onehot + s/C. */
export function smoothedTargets(labels: Int32Array, numClasses: number, smoothing: number): Float32Array {
  if (!(smoothing >= 0 && smoothing <= 1)) throw new RangeError(`label smoothing ${smoothing} outside [0, 1]`);
  const off = smoothing / numClasses;
  const out = new Float32Array(labels.length * numClasses).fill(off);
  for (let i = 0; i < labels.length; i++) {
    const t = labels[i];
    if (!Number.isInteger(t) || t < 0 || t >= numClasses) throw new RangeError(`label ${t} at position ${i} outside 0..${numClasses - 1}`);
    out[i * numClasses + t] = 1 - smoothing + off;
  }
  return out;
}

/** Label-smoothed cross-entropy for class indices, mean over the batch. */
export function crossEntropy(logits: tf.Tensor2D, labels: Int32Array, opts: { smoothing: number } = { smoothing: 0 }): tf.Scalar {
  const [b, c] = logits.shape;
  if (labels.length !== b) throw new RangeError(`crossEntropy: ${labels.length} labels for a batch of ${b}`);
  const y = tf.tensor2d(smoothedTargets(labels, c, opts.smoothing), [b, c]);
  try {
    return softTargetCrossEntropy(logits, y);
  } finally {
    y.dispose();
  }
}
