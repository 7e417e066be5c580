// drop_path goldens: timm DropPath(drop_prob, scale_by_keep) with the recorded per-sample
// keep mask injected.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import type { GoldenCase } from '../format.ts';
import { decodeTensor } from '../format.ts';
import type { OpContext } from '../registry.ts';
import { allClose, exactEqual, type Check } from '../compare.ts';
import { dropPath } from '../../train/drop-path.ts';

export async function run(c: GoldenCase, _ctx: OpContext): Promise<Check[]> {
  await tf.setBackend('cpu');
  const xT = decodeTensor(c.inputs.x, 'inputs.x');
  const mask = c.inputs.keep_mask ? (decodeTensor(c.inputs.keep_mask, 'inputs.keep_mask').data as Float32Array) : null;
  const p = Number(c.params.drop_prob);
  const training = c.params.training === true;
  const x = tf.tensor(xT.data as Float32Array, xT.shape);
  const y = dropPath(x, p, mask, { training, scaleByKeep: c.params.scale_by_keep !== false });
  const maskUsed = training && p > 0;
  const checks = [
    allClose('y', await y.data(), decodeTensor(c.expected.y, 'expected.y').data, c.tolerance),
    exactEqual('mask_used', maskUsed, c.expected.mask_used),
  ];
  tf.dispose([x, y]);
  return checks;
}
