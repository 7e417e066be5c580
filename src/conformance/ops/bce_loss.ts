// bce_loss goldens: timm BinaryCrossEntropy(smoothing, target_threshold), mean reduction,
// loss and d(loss)/d(logits), on the CPU backend.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import type { GoldenCase } from '../format.ts';
import { decodeTensor } from '../format.ts';
import type { OpContext } from '../registry.ts';
import { allClose, scalarClose, type Check } from '../compare.ts';
import { binaryCrossEntropy } from '../../train/bce.ts';

export async function run(c: GoldenCase, _ctx: OpContext): Promise<Check[]> {
  await tf.setBackend('cpu');
  if ((c.params.reduction ?? 'mean') !== 'mean') throw new Error(`bce_loss/${c.case}: reduction '${String(c.params.reduction)}' not supported (timm RSB uses mean)`);
  const logitsT = decodeTensor(c.inputs.logits, 'inputs.logits');
  const targetT = decodeTensor(c.inputs.target, 'inputs.target');
  const [b, k] = logitsT.shape;
  const smoothing = Number(c.params.smoothing);
  const thr = c.params.target_threshold;
  const opts = { smoothing, targetThreshold: thr === null || thr === undefined ? null : Number(thr) };
  const logits = tf.tensor2d(logitsT.data as Float32Array, [b, k]);
  const target =
    targetT.dtype === 'int64' ? Int32Array.from(targetT.data) : tf.tensor2d(targetT.data as Float32Array, [b, k]);
  const { value, grad: g } = tf.valueAndGrad((z: tf.Tensor) => binaryCrossEntropy(z as tf.Tensor2D, target, opts))(logits);
  const loss = (await value.data())[0];
  const checks = [
    scalarClose('loss', loss, Number(c.expected.loss), c.tolerance),
    scalarClose('loss_f32', loss, decodeTensor(c.expected.loss_f32, 'expected.loss_f32').data[0], c.tolerance),
    allClose('grad_logits', await g.data(), decodeTensor(c.expected.grad_logits, 'expected.grad_logits').data, c.tolerance),
  ];
  tf.dispose([logits, value, g]);
  if (target instanceof tf.Tensor) target.dispose();
  return checks;
}
