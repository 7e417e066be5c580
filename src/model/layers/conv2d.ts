// Convolution with PyTorch's padding semantics.
//
// PyTorch pads `pad` zeros on every side. TensorFlow's 'same' pads stride-2 convolutions
// asymmetrically (the extra row/column at the bottom/right) on even inputs, which shifts the
// sampling grid by one pixel and breaks imported weights. tfjs also accepts a *number* as the
// padding, meaning that many zeros on each side: exactly PyTorch's rule. We use that rather
// than tf.pad + 'valid' because it saves a padded copy of every activation and the Slice its
// gradient needs. Weights are HWIO, activations NHWC.
import { tf } from '../tf.ts';

export function conv2d(x: tf.Tensor4D, w: tf.Tensor4D, stride: number, pad: number): tf.Tensor4D {
  return tf.conv2d(x, w, stride, pad, 'NHWC');
}
