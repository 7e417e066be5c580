// How many images of a ResNet training step fit in memory at once: the micro-batch size.
//
// The wasm heap is capped at 4 GiB and never shrinks; a step that outgrows it aborts the
// process. Activation memory is estimated from the model plan (no tfjs): tfjs keeps, for every
// conv, its output plus BatchNorm's centred and normalised copies, the ReLU output and padded
// inputs for the backward pass. Measured with tf.profile's peakBytes on resnet50 at 128 px,
// batch 8: 1.9 GB, about 17 x the conv outputs' bytes; ACTIVATION_FACTOR = 20 keeps headroom.
// Resident memory (weights, gradients, their running sums, LAMB's two moments, temporaries) is
// about 7 x the parameter bytes. With a 3.5 GiB budget, resnet50 at 224 px, micro-batch 3,
// peaked at 2.9 GiB of wasm heap, and at 128 px, micro-batch 10, at 2.7 GiB.
import { resnetWork } from './flops.ts';
import { maxMicroBatchSize } from './micro-batch.ts';
import { resnetPlan, resnetStateSpec, type ResNetArchConfig, type ResNetArchName } from '../model/resnet-archs.ts';

export const ACTIVATION_FACTOR = 20;
export const RESIDENT_FACTOR = 7;
/** Default budget: the 4 GiB wasm cap less a margin (the heap grows in large steps). */
export const DEFAULT_BUDGET_BYTES = 3.5 * 2 ** 30;

export interface MemoryPlan {
  /** Estimated activation bytes per image. */
  bytesPerImage: number;
  /** Estimated bytes resident whatever the batch. */
  residentBytes: number;
  /** The largest micro-batch within the budget (at most the batch). */
  microBatch: number;
}

/** Trainable parameter count of an architecture (from the plan; no tfjs). */
function parameterCount(arch: ResNetArchName | ResNetArchConfig, numClasses: number): number {
  return resnetStateSpec(resnetPlan(arch, numClasses))
    .filter((e) => e.kind === 'parameter')
    .reduce((n, e) => n + e.timmShape.reduce((a, b) => a * b, 1), 0);
}

export function resnetMemoryPlan(opts: {
  arch: ResNetArchName | ResNetArchConfig;
  resolution: number;
  batch: number;
  numClasses?: number;
  budgetBytes?: number;
}): MemoryPlan {
  const numClasses = opts.numClasses ?? 1000;
  const bytesPerImage = resnetWork(opts.arch, opts.resolution, numClasses).convOutputElements * 4 * ACTIVATION_FACTOR;
  const residentBytes = parameterCount(opts.arch, numClasses) * 4 * RESIDENT_FACTOR;
  const microBatch = maxMicroBatchSize({ bytesPerSample: bytesPerImage, residentBytes, budgetBytes: opts.budgetBytes ?? DEFAULT_BUDGET_BYTES, batchSize: opts.batch });
  return { bytesPerImage, residentBytes, microBatch };
}
