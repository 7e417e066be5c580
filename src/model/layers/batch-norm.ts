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
 * Training-mode BN. Returns the output and the batch statistics for the running update; the
 * statistics are tf.keep()-ed so they survive the tidy scope of tf.variableGrads, and are
 * stop-gradient copies so that committing them never touches the tape.
 */
export function batchNormTrain(x: tf.Tensor4D, bn: BatchNormVars): { y: tf.Tensor4D; stats: BatchStats } {
  const { mean, variance } = tf.moments(x, [0, 1, 2]);
  const y = tf.batchNorm4d(x, mean as tf.Tensor1D, variance as tf.Tensor1D, bn.beta as tf.Tensor1D, bn.gamma as tf.Tensor1D, BN_EPS);
  const n = x.shape[0] * x.shape[1] * x.shape[2];
  if (n < 2) throw new Error(`${bn.name}: training-mode BatchNorm needs more than one value per channel, got input [${x.shape}]`);
  const stats: BatchStats = {
    bn,
    mean: tf.keep(tf.clone(mean)) as tf.Tensor1D,
    unbiasedVar: tf.keep(tf.mul(variance, n / (n - 1))) as tf.Tensor1D,
  };
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
