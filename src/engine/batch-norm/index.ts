// Training-mode BatchNorm as one fused op (see ./kernels.ts for why), for channels-last input.
//
//   const { y, mean, variance } = batchNormTrain(x, gamma, beta, 1e-5);
//   // y: normalised with the batch statistics; mean, variance (biased): for the running update.
//
// Differentiable in x, gamma and beta (through y). On a backend without the fused kernels
// (tfjs-node) it computes the same with tfjs ops and their gradients.
import * as tf from '@tensorflow/tfjs-core';
import { BN_TRAIN, registerBatchNormKernels } from './kernels.ts';

export { registerBatchNormKernels } from './kernels.ts';

export interface BatchNormTrainResult<T extends tf.Tensor> {
  y: T;
  mean: tf.Tensor1D;
  variance: tf.Tensor1D;
}

export function batchNormTrain<T extends tf.Tensor>(x: T, gamma: tf.Tensor1D, beta: tf.Tensor1D, eps: number): BatchNormTrainResult<T> {
  registerBatchNormKernels();
  if (tf.getKernel(BN_TRAIN, tf.getBackend())) {
    const [y, mean, variance] = tf.engine().runKernel(BN_TRAIN, { x, gamma, beta }, { eps }) as tf.Tensor[];
    return { y: y as T, mean: mean as tf.Tensor1D, variance: variance as tf.Tensor1D };
  }
  const axes = [...Array(x.rank - 1).keys()];
  const { mean, variance } = tf.moments(x, axes);
  const y = tf.batchNorm(x, mean, variance, beta, gamma, eps) as T;
  return { y, mean: mean as tf.Tensor1D, variance: variance as tf.Tensor1D };
}
