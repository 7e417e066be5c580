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

/** Running top-1/top-5 and per-class counts, fed batch by batch (a 50,000-image val set never sits in memory). */
export class ScoreAccumulator {
  private readonly correct: Int32Array;
  private readonly total: Int32Array;
  private h1 = 0;
  private h5 = 0;
  private n = 0;
  constructor(private readonly C: number) {
    this.correct = new Int32Array(C);
    this.total = new Int32Array(C);
  }
  add(logits: Float32Array, labels: Int32Array): void {
    const C = this.C;
    for (let i = 0; i < labels.length; i++) {
      const row = logits.subarray(i * C, (i + 1) * C);
      const own = row[labels[i]];
      // Rank = number of strictly higher logits: ties count in the sample's favour.
      let higher = 0;
      for (let c = 0; c < C && higher < 5; c++) if (row[c] > own) higher++;
      this.total[labels[i]]++;
      if (higher < 1) {
        this.h1++;
        this.correct[labels[i]]++;
      }
      if (higher < 5) this.h5++;
      this.n++;
    }
  }
  get count(): number {
    return this.n;
  }
  scores(): Scores {
    const n = Math.max(1, this.n);
    return {
      top1: (100 * this.h1) / n,
      top5: (100 * this.h5) / n,
      perClass: Array.from({ length: this.C }, (_, c) => ({ index: c, correct: this.correct[c], total: this.total[c], top1: this.total[c] ? (100 * this.correct[c]) / this.total[c] : 0 })),
    };
  }
}

/** Scores a whole split streamed through the eval transform, `batch` images at a time. */
export async function scoreSplit(
  model: ResNet, dir: string, split: 'train' | 'val', opts: EvalTransformOptions,
  mean: readonly [number, number, number], std: readonly [number, number, number], workers = 1, batch = 32,
): Promise<Scores & { count: number }> {
  const C = model.options.numClasses;
  const acc = new ScoreAccumulator(C);
  const loader = await createLoader({ dir, split, mode: 'eval', batchSize: batch, eval: opts, workers });
  try {
    for await (const b of loader.epoch(0)) {
      const logits = tf.tidy(() => model.apply(normaliseBatch(b.images, b.size, b.imageSize, b.imageSize, mean, std), { training: false }));
      acc.add(logits.dataSync() as Float32Array, b.labels);
      logits.dispose();
    }
  } finally {
    await loader.close();
  }
  return { ...acc.scores(), count: acc.count };
}

/** top-k in %, ties counted in the sample's favour (as rank = number of strictly higher logits). */
export function evaluateLogits(logits: Float32Array, labels: Int32Array, C: number): Scores {
  const acc = new ScoreAccumulator(C);
  acc.add(logits, labels);
  return acc.scores();
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
