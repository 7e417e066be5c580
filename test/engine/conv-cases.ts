// Convolution geometries shared by the kernel tests: the shapes, strides and paddings a ResNet
// uses (stem, bottleneck 1x1s, strided 3x3, downsample) and some awkward ones.
import * as tf from '@tensorflow/tfjs-core';

type Pad = 'valid' | 'same' | number | [[number, number], [number, number], [number, number], [number, number]];
export interface ConvCase {
  name: string;
  x: [number, number, number, number];
  f: [number, number, number, number];
  strides: number | [number, number];
  pad: Pad;
}
const sym = (p: number): Pad => [[0, 0], [p, p], [p, p], [0, 0]];

export const CONV_CASES: ConvCase[] = [
  { name: '1x1 s1, Cin < Cout (bottleneck conv3)', x: [2, 6, 6, 8], f: [1, 1, 8, 16], strides: 1, pad: 'valid' },
  { name: '1x1 s1, Cin > Cout (bottleneck conv1)', x: [2, 6, 6, 16], f: [1, 1, 16, 8], strides: 1, pad: 'valid' },
  { name: '1x1 s2 downsample, even input', x: [2, 8, 8, 8], f: [1, 1, 8, 12], strides: 2, pad: 'valid' },
  { name: '1x1 s2 downsample, odd input', x: [1, 7, 9, 6], f: [1, 1, 6, 5], strides: 2, pad: 'valid' },
  { name: '3x3 s1 pad 1 (explicit)', x: [2, 7, 7, 8], f: [3, 3, 8, 8], strides: 1, pad: sym(1) },
  { name: '3x3 s2 pad 1 (explicit), even input', x: [2, 8, 8, 8], f: [3, 3, 8, 16], strides: 2, pad: sym(1) },
  { name: '3x3 s2 pad 1 (explicit), odd input', x: [1, 9, 7, 4], f: [3, 3, 4, 6], strides: 2, pad: sym(1) },
  { name: '7x7 s2 pad 3 (stem)', x: [1, 16, 16, 3], f: [7, 7, 3, 8], strides: 2, pad: sym(3) },
  { name: '3x3 valid s1 (pre-padded input, as the model does)', x: [2, 8, 8, 6], f: [3, 3, 6, 7], strides: 1, pad: 'valid' },
  { name: '3x3 valid s2 (pre-padded input, as the model does)', x: [2, 10, 10, 6], f: [3, 3, 6, 7], strides: 2, pad: 'valid' },
  { name: "3x3 'same' s2 (asymmetric TF padding)", x: [1, 8, 8, 4], f: [3, 3, 4, 4], strides: 2, pad: 'same' },
  { name: 'asymmetric explicit padding, 2x3 filter, strides [2,1]', x: [2, 7, 6, 3], f: [2, 3, 3, 5], strides: [2, 1], pad: [[0, 0], [0, 1], [2, 0], [0, 0]] },
  { name: '3x3 s1 pad 1, wide input (one tap per product)', x: [1, 5, 6, 128], f: [3, 3, 128, 4], strides: 1, pad: sym(1) },
  { name: '3x3 s2 pad 1, 80 channels (taps two by two, odd tap left over)', x: [1, 7, 7, 80], f: [3, 3, 80, 4], strides: 2, pad: sym(1) },
  { name: '1x1 s2 with padding (phases no tap reaches)', x: [1, 6, 6, 4], f: [1, 1, 4, 3], strides: 2, pad: sym(1) },
  { name: '2x2 s3 valid (filter smaller than the stride)', x: [2, 8, 7, 3], f: [2, 2, 3, 2], strides: 3, pad: 'valid' },
  { name: 'padding larger than the filter', x: [1, 5, 5, 2], f: [2, 2, 2, 3], strides: 1, pad: sym(3) },
  // Cin % 4 == 0 and Cout % 8 == 0: the wasm filter gradient's outer-product kernel, with M
  // positions past one chunk of 64 and not a multiple of it
  { name: '1x1 s2 downsample, Cin 8 -> Cout 16', x: [2, 9, 9, 8], f: [1, 1, 8, 16], strides: 2, pad: 'valid' },
  { name: "3x3 'same' s2, Cin 4 -> Cout 8", x: [2, 9, 8, 4], f: [3, 3, 4, 8], strides: 2, pad: 'same' },
  { name: '7x7 s2 pad 3, Cin 4 -> Cout 24', x: [1, 18, 17, 4], f: [7, 7, 4, 24], strides: 2, pad: sym(3) },
  { name: '3x3 s1 pad 1, 200 positions, Cin 12 -> Cout 32', x: [2, 10, 10, 12], f: [3, 3, 12, 32], strides: 1, pad: sym(1) },
  // Cin % 4 != 0, Cout % 8 == 0: the im2row route (rows of 3*3*6 = 54 padded to 56; of 2*3*3 = 18 to 20)
  { name: '3x3 s1 pad 1, Cin 6 -> Cout 16 (im2row rows padded)', x: [2, 9, 9, 6], f: [3, 3, 6, 16], strides: 1, pad: sym(1) },
  { name: "2x3 'same' s2, Cin 3 -> Cout 8 (im2row, asymmetric padding)", x: [2, 9, 8, 3], f: [2, 3, 3, 8], strides: 2, pad: 'same' },
];

export function outShape(c: ConvCase): number[] {
  // The forward op's output shape, from tfjs itself (the same rule both backends use).
  return tf.tidy(() => tf.conv2d(tf.zeros(c.x) as tf.Tensor4D, tf.zeros(c.f) as tf.Tensor4D, c.strides, c.pad as 'valid').shape);
}

export function filterGrad(c: ConvCase, x: Float32Array, dy: Float32Array, dyShape: number[]): () => tf.Tensor {
  return () =>
    tf.engine().runKernel(
      'Conv2DBackpropFilter',
      { x: tf.tensor(x, c.x), dy: tf.tensor(dy, dyShape) },
      { strides: c.strides, pad: c.pad, dataFormat: 'NHWC', dimRoundingMode: undefined, filterShape: c.f } as never,
    ) as tf.Tensor;
}

export function inputGrad(c: ConvCase, dy: Float32Array, dyShape: number[], f: Float32Array): () => tf.Tensor {
  return () =>
    tf.engine().runKernel(
      'Conv2DBackpropInput',
      { dy: tf.tensor(dy, dyShape), filter: tf.tensor(f, c.f) },
      { strides: c.strides, pad: c.pad, dataFormat: 'NHWC', dimRoundingMode: undefined, inputShape: c.x } as never,
    ) as tf.Tensor;
}
