// Scoring a model on an eval set: logits in eval mode (BN running stats, no drop path),
// then top-1 / top-5 and per-class accuracy.
import { tf } from '../model/tf.ts';
import type { ResNet } from '../model/resnet.ts';
import { normaliseBatch } from './step.ts';
import { createLoader } from '../data/loader.ts';
import { openShards } from '../data/shards.ts';
import type { EvalTransformOptions } from '../data/transforms/index.ts';

/** Row-major [n, classes] logits of the whole set, `batch` images at a time. */
export function predict(model: ResNet, set: EvalSet, mean: readonly [number, number, number], std: readonly [number, number, number], batch = 32): Float32Array {
  const C = model.options.numClasses;
  const out = new Float32Array(set.n * C);
  const px = set.size * set.size * 3;
  for (let s = 0; s < set.n; s += batch) {
    const n = Math.min(batch, set.n - s);
    const logits = tf.tidy(() => {
      const x = normaliseBatch(set.images.subarray(s * px, (s + n) * px), n, set.size, set.size, mean, std);
      return model.apply(x, { training: false });
    });
    out.set(logits.dataSync() as Float32Array, s * C);
    logits.dispose();
  }
  return out;
}

export interface Scores {
  top1: number;
  top5: number;
  perClass: { index: number; correct: number; total: number; top1: number }[];
}

/** top-k in %, ties counted in the sample's favour (as rank = number of strictly higher logits). */
export function evaluateLogits(logits: Float32Array, labels: Int32Array, C: number): Scores {
  const correct = new Int32Array(C), total = new Int32Array(C);
  let h1 = 0, h5 = 0;
  for (let i = 0; i < labels.length; i++) {
    const row = logits.subarray(i * C, (i + 1) * C);
    const own = row[labels[i]];
    let higher = 0;
    for (let c = 0; c < C; c++) if (row[c] > own) higher++;
    total[labels[i]]++;
    if (higher < 1) {
      h1++;
      correct[labels[i]]++;
    }
    if (higher < 5) h5++;
  }
  const n = Math.max(1, labels.length);
  return {
    top1: (100 * h1) / n,
    top5: (100 * h5) / n,
    perClass: Array.from({ length: C }, (_, c) => ({ index: c, correct: correct[c], total: total[c], top1: total[c] ? (100 * correct[c]) / total[c] : 0 })),
  };
}

export interface EvalSet {
  n: number;
  size: number;
  images: Uint8Array;
  labels: Int32Array;
}

/**
 * A split through the eval transform, held in memory (the per-epoch learning-curve eval
 * reuses it). `limit` > 0 takes that many samples spread evenly over the split, since val
 * folders are ordered by class and a prefix would cover only the first classes.
 */
export async function loadEvalSet(dir: string, split: 'train' | 'val', opts: EvalTransformOptions, limit = 0, workers = 1): Promise<EvalSet> {
  const probe = openShards(dir, split);
  const count = probe.count;
  await probe.close();
  const n = limit > 0 ? Math.min(limit, count) : count;
  const order = Int32Array.from({ length: n }, (_, k) => (n === count ? k : Math.floor((k * count) / n)));
  const loader = await createLoader({ dir, split, mode: 'eval', batchSize: 32, eval: opts, sampler: { indices: () => order }, workers });
  const S = opts.size;
  const images = new Uint8Array(n * S * S * 3);
  const labels = new Int32Array(n);
  let at = 0;
  try {
    for await (const b of loader.epoch(0)) {
      images.set(b.images, at * S * S * 3);
      labels.set(b.labels, at);
      at += b.size;
    }
  } finally {
    await loader.close();
  }
  if (at !== n) throw new Error(`${dir}: eval loader gave ${at} of ${n} ${split} samples`);
  return { n, size: S, images, labels };
}
