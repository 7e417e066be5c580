// Convolution with PyTorch's padding semantics.
//
// PyTorch pads `pad` zeros on every side. TensorFlow's 'same' pads stride-2 convolutions
// asymmetrically (the extra row/column at the bottom/right) on even inputs, which shifts the
// sampling grid by one pixel and breaks imported weights. So: explicit symmetric tf.pad,
// then a 'valid' convolution. Weights are HWIO, activations NHWC.
import { tf } from '../tf.ts';

export function conv2d(x: tf.Tensor4D, w: tf.Tensor4D, stride: number, pad: number): tf.Tensor4D {
  const padded = pad > 0 ? tf.pad(x, [[0, 0], [pad, pad], [pad, pad], [0, 0]]) : x;
  return tf.conv2d(padded, w, stride, 'valid', 'NHWC');
}
