// Making one batch: read each sample from the shards, transform it, stack into NHWC uint8.
//
// The same BatchMaker runs inside a worker thread (the message loop at the bottom) or in the
// caller's thread (workers: 0). Each sample's random stream is keyed by (seed, epoch, position
// of the sample in the epoch's order) and written into its own slot of the batch, so the bytes
// of a batch do not depend on which thread made it, nor on the order samples finish in.
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { openShards, type ShardReader } from './shards.ts';
import type { Split } from './shard-format.ts';
import { trainSample, evalSample, type TrainTransformOptions, type EvalTransformOptions } from './transforms/index.ts';
import { streamFor } from '../util/rng.ts';

export interface WorkerInit {
  dir: string;
  split: Split;
  mode: 'train' | 'eval';
  seed: number;
  train?: TrainTransformOptions;
  eval?: EvalTransformOptions;
  /** Samples in flight inside one worker: overlaps sharp's decode (thread pool) with JS pixel work. */
  sampleConcurrency: number;
}

export interface BatchRequest {
  id: number;
  epoch: number;
  /** Position of each sample in the epoch's order (keys its random stream). */
  positions: Int32Array;
  /** Dataset index of each sample. */
  indices: Int32Array;
}

export interface BatchResult {
  id: number;
  images: Uint8Array;
  labels: Int32Array;
}

/** The message a worker sends back. */
export type WorkerReply = ({ ok: true } & BatchResult) | { ok: false; id: number; message: string } | { closed: true };

export const WORKER_TAG = 'rsb-loader-worker';

export class BatchMaker {
  private readonly reader: ShardReader;
  readonly imageSize: number;

  constructor(private readonly init: WorkerInit) {
    if (init.mode === 'train' && !init.train) throw new Error('loader: train mode needs train transform options');
    if (init.mode === 'eval' && !init.eval) throw new Error('loader: eval mode needs eval transform options');
    this.reader = openShards(init.dir, init.split);
    this.imageSize = init.mode === 'train' ? init.train!.size : init.eval!.size;
  }

  async make(req: BatchRequest): Promise<BatchResult> {
    const n = req.indices.length;
    const S = this.imageSize;
    const stride = S * S * 3;
    const images = new Uint8Array(n * stride);
    const labels = new Int32Array(n);
    let next = 0;
    const one = async (k: number): Promise<void> => {
      const index = req.indices[k];
      const { bytes, label } = await this.reader.read(index);
      const what = `${this.init.dir} ${this.init.split} sample ${index}`;
      const px =
        this.init.mode === 'train'
          ? await trainSample(bytes, this.init.train!, streamFor(this.init.seed, 'crop', req.epoch, req.positions[k]), what)
          : await evalSample(bytes, this.init.eval!, what);
      if (px.length !== stride) throw new Error(`${what}: transform gave ${px.length} bytes, expected ${S}x${S}x3`);
      images.set(px, k * stride);
      labels[k] = label;
    };
    const lane = async (): Promise<void> => {
      while (next < n) await one(next++);
    };
    await Promise.all(Array.from({ length: Math.min(n, Math.max(1, this.init.sampleConcurrency)) }, lane));
    return { id: req.id, images, labels };
  }

  close(): Promise<void> {
    return this.reader.close();
  }
}

// ---- worker thread entry ---------------------------------------------------------------------
if (!isMainThread && parentPort && (workerData as { tag?: string } | null)?.tag === WORKER_TAG) {
  const port = parentPort;
  const maker = new BatchMaker((workerData as { init: WorkerInit }).init);
  port.on('message', (req: BatchRequest | null) => {
    if (req === null) {
      // Close the shard files, then tell the parent, which terminates the thread (Deno's
      // parentPort has no close(), so the parent ends it in both runtimes).
      void maker.close().finally(() => port.postMessage({ closed: true }));
      return;
    }
    maker.make(req).then(
      (r) => port.postMessage({ ok: true, ...r } satisfies WorkerReply, [r.images.buffer as ArrayBuffer, r.labels.buffer as ArrayBuffer]),
      (e: Error) => port.postMessage({ ok: false, id: req.id, message: e.message } satisfies WorkerReply),
    );
  });
}
