// Max-pool with PyTorch's implicit padding: padded cells never win, as if they held -inf.
// tfjs's numeric padding (that many cells on each side) has the same rule: its kernels skip
// out-of-bounds cells rather than reading zeros. (Zero padding would only be equivalent on
// non-negative inputs; the stem's input is post-ReLU, but the layer does not rely on that,
// and test/model/layers.test.ts checks it on all-negative inputs.)
import { tf } from '../tf.ts';

export function maxPool2d(x: tf.Tensor4D, k: number, stride: number, pad: number): tf.Tensor4D {
  return tf.maxPool(x, k, stride, pad);
}
