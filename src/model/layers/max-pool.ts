// Max-pool with PyTorch's implicit padding: padded cells never win, as if they held -inf.
// (Zero padding would only be equivalent on non-negative inputs; the stem's input is post-ReLU,
// but the layer should not rely on that.)
import { tf } from '../tf.ts';

export function maxPool2d(x: tf.Tensor4D, k: number, stride: number, pad: number): tf.Tensor4D {
  const padded = pad > 0 ? tf.pad(x, [[0, 0], [pad, pad], [pad, pad], [0, 0]], -Infinity) : x;
  return tf.maxPool(padded, k, stride, 'valid');
}
