// Analytic work counts of a ResNet training step, for benchmarks and throughput reports.
//
// Only convolutions and the classifier are counted (they are >98% of the arithmetic; BN, ReLU,
// pooling and the optimizer are memory-bound and left out, as the usual FLOP tables do).
// Convention: 1 multiply-add (MAC) = 2 FLOPs; a training step costs 3x the forward pass
// (forward, input gradient, weight gradient: each the same number of MACs). The stem's input
// gradient is not needed (the image is no variable) but is counted, as is conventional.
// No tfjs import: this runs in the benchmark's parent process.
import { resnetPlan, type ResNetArchConfig, type ResNetArchName } from '../model/resnet-archs.ts';

export interface WorkCount {
  /** Multiply-adds of one forward pass for one image. */
  forwardMacs: number;
  /** FLOPs of forward + backward for one image (3 x 2 x forwardMacs). */
  trainFlops: number;
  /** Elements of every conv output for one image (drives activation memory). */
  convOutputElements: number;
}

const outSize = (size: number, k: number, stride: number, pad: number): number => Math.floor((size + 2 * pad - k) / stride) + 1;

/** Work of one image through `arch` at `resolution` x `resolution` pixels. */
export function resnetWork(arch: ResNetArchName | ResNetArchConfig, resolution: number, numClasses = 1000): WorkCount {
  if (!Number.isInteger(resolution) || resolution < 32) throw new RangeError(`resnetWork: resolution must be an integer >= 32, got ${resolution}`);
  const plan = resnetPlan(arch, numClasses);
  let macs = 0;
  let outputs = 0;
  const conv = (size: number, c: { inC: number; outC: number; k: number; stride: number; pad: number }): number => {
    const o = outSize(size, c.k, c.stride, c.pad);
    macs += o * o * c.outC * c.k * c.k * c.inC;
    outputs += o * o * c.outC;
    return o;
  };
  let size = conv(resolution, plan.stem);
  size = outSize(size, 3, 2, 1); // max-pool 3x3/2, pad 1
  for (const b of plan.blocks) {
    let s = size;
    for (const c of b.branch) s = conv(s, c);
    if (b.downsample) conv(size, b.downsample);
    size = s;
  }
  macs += plan.featureDim * numClasses;
  return { forwardMacs: macs, trainFlops: 6 * macs, convOutputElements: outputs };
}
