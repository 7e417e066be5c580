// Stochastic depth on a residual branch, per sample (timm DropPath with scale_by_keep):
// in training, sample i keeps its branch with probability 1 - rate and the kept branch is
// scaled by 1 / (1 - rate); a dropped sample adds zero. Identity in eval or at rate 0.
//
// Private to the model until engineer B's src/train/drop-path.ts is available; the maths is
// the same and small. Draws come from caller-provided streams (src/util/rng.ts), one draw per
// sample per block in block order, so results never depend on worker count.
import { tf } from '../tf.ts';
import type { Rng } from '../../util/rng.ts';

/** The keep mask for one block: 1/(1-rate) for kept samples, 0 for dropped ones. */
export function dropPathScale(rngs: readonly Rng[], rate: number): Float32Array {
  const out = new Float32Array(rngs.length);
  if (rate >= 1) return out; // everything dropped; avoid dividing by zero
  const keep = 1 - rate;
  for (let i = 0; i < rngs.length; i++) out[i] = rngs[i].random() < keep ? 1 / keep : 0;
  return out;
}

export function applyDropPath(branch: tf.Tensor4D, scale: Float32Array): tf.Tensor4D {
  return tf.mul(branch, tf.tensor4d(scale, [scale.length, 1, 1, 1]));
}
