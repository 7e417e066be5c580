// BatchNorm2d with PyTorch's semantics (NHWC, per-channel over N, H, W):
//   training: normalise with the batch mean and the *biased* batch variance; running stats
//             move by momentum 0.1 towards the batch mean and the *unbiased* batch variance
//             (n/(n-1) correction), and num_batches_tracked counts the update;
//   eval:     normalise with the running stats.
// The running-stat update is returned as data (BatchStats), not applied here, so that a
// training step can run the forward pass inside tf.variableGrads and commit the update once,
// outside the tape (see ResNet.forward / commitStats).
import { tf } from '../tf.ts';

export const BN_EPS = 1e-5;
export const BN_MOMENTUM = 0.1;

export interface BatchNormVars {
  name: string; // module path, e.g. 'layer1.0.bn3'
  gamma: tf.Variable;
  beta: tf.Variable;
  runningMean: tf.Variable;
  runningVar: tf.Variable;
  numBatchesTracked: tf.Variable;
}

/** What one training-mode BN forward saw: batch mean and unbiased variance (kept tensors). */
export interface BatchStats {
  bn: BatchNormVars;
  mean: tf.Tensor1D;
  unbiasedVar: tf.Tensor1D;
}

export function batchNormEval(x: tf.Tensor4D, bn: BatchNormVars): tf.Tensor4D {
  return tf.batchNorm4d(x, bn.runningMean as tf.Tensor1D, bn.runningVar as tf.Tensor1D, bn.beta as tf.Tensor1D, bn.gamma as tf.Tensor1D, BN_EPS);
}

/**
 * Training-mode BN. Returns the output and the batch statistics for the running update (kept
 * tensors, so they survive the tidy scope of tf.variableGrads; they are not on the path to
 * the loss, so committing them later never involves the tape).
 *
 * The gradient is written out (tf.customGrad) instead of left to autodiff of moments +
 * FusedBatchNorm, whose generic gradient tiles per-channel tensors to full size and
 * differentiates the mean and the variance as separate nodes. With x^ the normalised input,
 * k = gamma / sqrt(var + eps) and n = N*H*W values per channel:
 *   dbeta = sum(dy),  dgamma = sum(dy * x^),  dx = k * (dy - x^ * dgamma/n - dbeta/n)
 * (the textbook result of differentiating through the batch mean and biased variance).
 */
export function batchNormTrain(x: tf.Tensor4D, bn: BatchNormVars): { y: tf.Tensor4D; stats: BatchStats } {
  const n = x.shape[0] * x.shape[1] * x.shape[2];
  if (n < 2) throw new Error(`${bn.name}: training-mode BatchNorm needs more than one value per channel, got input [${x.shape}]`);
  let mean: tf.Tensor1D | null = null;
  let variance: tf.Tensor1D | null = null;
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [xx, gamma, beta] = args as tf.Tensor[];
    const save = args[3] as tf.GradSaveFunc;
    const m = tf.moments(xx, [0, 1, 2]);
    mean = tf.keep(m.mean) as tf.Tensor1D;
    variance = tf.keep(m.variance) as tf.Tensor1D;
    const y = tf.batchNorm4d(xx as tf.Tensor4D, mean, variance, beta as tf.Tensor1D, gamma as tf.Tensor1D, BN_EPS);
    save([xx, mean, tf.rsqrt(tf.add(variance, BN_EPS)), gamma]);
    return {
      value: y,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [sx, smean, rstd, g] = saved;
        const xhat = tf.mul(tf.sub(sx, smean), rstd);
        const dbeta = tf.sum(dy, [0, 1, 2]);
        const dgamma = tf.sum(tf.mul(dy, xhat), [0, 1, 2]);
        const centred = tf.sub(tf.sub(dy, tf.mul(xhat, tf.div(dgamma, n))), tf.div(dbeta, n));
        return [tf.mul(centred, tf.mul(g, rstd)), dgamma, dbeta];
      },
    };
  });
  const y = op(x, bn.gamma, bn.beta) as tf.Tensor4D;
  const stats: BatchStats = {
    bn,
    mean: mean!,
    unbiasedVar: tf.keep(tf.mul(variance!, n / (n - 1))) as tf.Tensor1D,
  };
  (variance as tf.Tensor1D | null)?.dispose();
  return { y, stats };
}

/** Applies one PyTorch running-stat update per BatchStats entry and disposes the entries. */
export function commitBatchStats(list: readonly BatchStats[]): void {
  for (const s of list) {
    tf.tidy(() => {
      const { bn } = s;
      bn.runningMean.assign(tf.add(tf.mul(bn.runningMean, 1 - BN_MOMENTUM), tf.mul(s.mean, BN_MOMENTUM)));
      bn.runningVar.assign(tf.add(tf.mul(bn.runningVar, 1 - BN_MOMENTUM), tf.mul(s.unbiasedVar, BN_MOMENTUM)));
      bn.numBatchesTracked.assign(tf.add(bn.numBatchesTracked, tf.scalar(1, 'int32')));
    });
    s.mean.dispose();
    s.unbiasedVar.dispose();
  }
}

/** Disposes collected statistics without applying them. */
export function discardBatchStats(list: readonly BatchStats[]): void {
  for (const s of list) {
    s.mean.dispose();
    s.unbiasedVar.dispose();
  }
}
