// The data loader: a pool of worker threads turning prepared shards into NHWC uint8 batches.
//
// The main thread decides everything that has to be reproducible: the epoch's order (from the
// sampler), how it is cut into batches, and which positions each batch holds. Workers only
// compute; every sample's randomness is keyed by (seed, epoch, position), so 1 worker, 2 workers
// or none (workers: 0, in this thread) give byte-identical batches. Up to `prefetch` batches are
// in flight; they are yielded strictly in order.
//
// Under Node a worker cannot load a .ts entry by itself (the tsx hooks of the parent are not
// active for a worker's first module), so it starts from a tiny JS bootstrap that registers tsx
// and then imports loader-worker.ts. Deno runs TypeScript workers natively.
import { Worker } from 'node:worker_threads';
import { availableParallelism } from 'node:os';
import { BatchMaker, WORKER_TAG, type BatchRequest, type BatchResult, type WorkerInit, type WorkerReply } from './loader-worker.ts';
import { openShards } from './shards.ts';
import type { Split } from './shard-format.ts';
import { ShuffleSampler } from './sampler.ts';
import type { TrainTransformOptions, EvalTransformOptions } from './transforms/index.ts';

/** Anything that lists an epoch's dataset indices in order: sampler.ts's samplers fit. */
export interface EpochSampler {
  indices(epoch: number): ArrayLike<number>;
}

export interface LoaderOptions {
  /** A prepared dataset folder (prepare.ts output). */
  dir: string;
  split: Split;
  /** 'train': trainSample with per-sample random streams; 'eval': evalSample, dataset order. */
  mode: 'train' | 'eval';
  batchSize: number;
  /** Keys every random draw of the transforms (with epoch and position). Default 0. */
  seed?: number;
  train?: TrainTransformOptions;
  eval?: EvalTransformOptions;
  /** Epoch order. Default: train, ShuffleSampler keyed by `seed`; eval, 0..count-1. */
  sampler?: EpochSampler;
  /** Drop the last incomplete batch. Default: true in train mode (timm does), false in eval. */
  dropLast?: boolean;
  /** Use only the first `limit` samples of each epoch's order (0: all), e.g. a cheap per-epoch eval. */
  limit?: number;
  /** Worker threads; 0 makes batches in the calling thread. Default: cores - 1, at least 1. */
  workers?: number;
  /** Batches in flight. Default: 2 per worker (2 when workers is 0). */
  prefetch?: number;
  /** Samples in flight inside one worker. Default 2. */
  sampleConcurrency?: number;
}

export interface Batch {
  epoch: number;
  /** Batch number within the epoch. */
  index: number;
  /** Samples in this batch (batchSize except perhaps the last eval batch). */
  size: number;
  /** Side S of every image. */
  imageSize: number;
  /** size x S x S x 3, RGB, uint8, row-major NHWC: tf.tensor4d(images, [size, S, S, 3], 'int32'/'float32'). */
  images: Uint8Array;
  labels: Int32Array;
  /** Position of each sample in the epoch's order. */
  positions: Int32Array;
  /** Dataset index of each sample. */
  indices: Int32Array;
}

export interface Loader {
  /** Samples in the split. */
  readonly count: number;
  /** wnid of each label. */
  readonly classes: string[];
  readonly imageSize: number;
  readonly batchSize: number;
  /** Batches epoch `e` yields. */
  batchesPerEpoch(epoch?: number): number;
  /** The batches of one epoch, in order; `startBatch` resumes inside an epoch. */
  epoch(epoch: number, opts?: { startBatch?: number }): AsyncGenerator<Batch>;
  /** Stops the workers. */
  close(): Promise<void>;
}

function isDeno(): boolean {
  return typeof (globalThis as { Deno?: unknown }).Deno !== 'undefined';
}

function spawnWorker(init: WorkerInit): Worker {
  const url = new URL('./loader-worker.ts', import.meta.url);
  const workerData = { tag: WORKER_TAG, init };
  if (isDeno() || !url.pathname.endsWith('.ts')) return new Worker(url, { workerData });
  const tsxApi = import.meta.resolve('tsx/esm/api');
  const boot = `import(${JSON.stringify(tsxApi)}).then((m) => { m.register(); return import(${JSON.stringify(url.href)}); })`;
  return new Worker(boot, { eval: true, workerData });
}

interface Pending {
  resolve: (r: BatchResult) => void;
  reject: (e: Error) => void;
}

/** One worker thread with its outstanding requests. */
class PoolWorker {
  readonly worker: Worker;
  readonly pending = new Map<number, Pending>();
  private failure: Error | null = null;

  constructor(init: WorkerInit, id: number) {
    this.worker = spawnWorker(init);
    this.worker.on('message', (m: WorkerReply) => {
      if ('closed' in m) {
        this.closedAck?.();
        return;
      }
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if (m.ok) p.resolve({ id: m.id, images: m.images, labels: m.labels });
      else p.reject(new Error(m.message));
    });
    const fail = (e: Error) => {
      this.failure = e;
      for (const p of this.pending.values()) p.reject(e);
      this.pending.clear();
    };
    this.worker.on('error', (e) => fail(new Error(`loader worker ${id}: ${e.message}`)));
    this.worker.on('exit', (code) => {
      if (this.pending.size) fail(new Error(`loader worker ${id} exited (code ${code}) with batches pending`));
    });
  }

  private closedAck: (() => void) | null = null;

  /** Asks the worker to close its shard files, then ends the thread (after 5 s at the latest). */
  async stop(): Promise<void> {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, 5000);
      this.closedAck = () => {
        clearTimeout(timer);
        resolve();
      };
      this.worker.once('exit', () => this.closedAck?.());
      this.worker.postMessage(null);
    });
    await this.worker.terminate();
  }

  request(req: BatchRequest): Promise<BatchResult> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.pending.set(req.id, { resolve, reject });
      this.worker.postMessage(req);
    });
  }
}

export async function createLoader(opts: LoaderOptions): Promise<Loader> {
  const { dir, split, mode, batchSize } = opts;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new Error(`loader: batchSize must be a positive integer, got ${batchSize}`);
  const seed = opts.seed ?? 0;
  const dropLast = opts.dropLast ?? mode === 'train';
  const nWorkers = opts.workers ?? Math.max(1, availableParallelism() - 1);
  if (!Number.isInteger(nWorkers) || nWorkers < 0) throw new Error(`loader: workers must be an integer >= 0, got ${nWorkers}`);
  const prefetch = Math.max(1, opts.prefetch ?? 2 * Math.max(1, nWorkers));
  const init: WorkerInit = {
    dir, split, mode, seed,
    train: opts.train, eval: opts.eval,
    sampleConcurrency: opts.sampleConcurrency ?? 2,
  };

  // The main thread reads the index too (count, classes) and validates early, with the file's name.
  const probe = openShards(dir, split);
  const count = probe.count;
  const classes = probe.classes;
  await probe.close();
  const local = nWorkers === 0 ? new BatchMaker(init) : null;
  const imageSize = mode === 'train' ? opts.train?.size : opts.eval?.size;
  if (!imageSize) throw new Error(`loader: ${mode} mode needs ${mode} transform options`);
  const pool = Array.from({ length: nWorkers }, (_, i) => new PoolWorker(init, i));
  const sampler: EpochSampler =
    opts.sampler ??
    (mode === 'train' ? new ShuffleSampler({ datasetSize: count, seed }) : { indices: () => Int32Array.from({ length: count }, (_, i) => i) });

  const epochOrder = (epoch: number): Int32Array => {
    const raw = sampler.indices(epoch);
    let order = raw instanceof Int32Array ? raw : Int32Array.from(raw);
    if (opts.limit && opts.limit > 0 && order.length > opts.limit) order = order.subarray(0, opts.limit);
    for (let i = 0; i < order.length; i++) {
      if (order[i] < 0 || order[i] >= count) throw new Error(`loader: sampler gave index ${order[i]} for epoch ${epoch}, dataset has ${count}`);
    }
    return order;
  };
  const batchCount = (n: number): number => (dropLast ? Math.floor(n / batchSize) : Math.ceil(n / batchSize));

  let nextId = 0;
  let closed = false;
  // Requests still running (e.g. prefetched when the consumer stopped early): close() waits for
  // them, so no shard handle is closed under a read.
  const outstanding = new Set<Promise<unknown>>();
  const run = (req: BatchRequest): Promise<BatchResult> => {
    let p: Promise<BatchResult>;
    if (local) p = local.make(req);
    else {
      // Least-loaded worker; ties to the lowest id. Which worker runs a batch never changes its bytes.
      let best = pool[0];
      for (const w of pool) if (w.pending.size < best.pending.size) best = w;
      p = best.request(req);
    }
    const settled = p.then(() => undefined, () => undefined);
    outstanding.add(settled);
    void settled.then(() => outstanding.delete(settled));
    return p;
  };

  return {
    count,
    classes,
    imageSize,
    batchSize,
    batchesPerEpoch(epoch = 0) {
      return batchCount(epochOrder(epoch).length);
    },
    async *epoch(epoch: number, eopts: { startBatch?: number } = {}): AsyncGenerator<Batch> {
      if (closed) throw new Error('loader: used after close()');
      const order = epochOrder(epoch);
      const nb = batchCount(order.length);
      const start = eopts.startBatch ?? 0;
      const inflight: { b: number; req: BatchRequest; p: Promise<BatchResult> }[] = [];
      let b = start;
      const launch = () => {
        while (b < nb && inflight.length < prefetch) {
          const from = b * batchSize;
          const to = Math.min(order.length, from + batchSize);
          const positions = Int32Array.from({ length: to - from }, (_, k) => from + k);
          const req: BatchRequest = { id: nextId++, epoch, positions, indices: order.slice(from, to) };
          const p = run(req);
          p.catch(() => undefined); // observed below; avoids an unhandled rejection if the consumer stops early
          inflight.push({ b, req, p });
          b++;
        }
      };
      launch();
      while (inflight.length) {
        const head = inflight.shift()!;
        const r = await head.p;
        launch();
        yield {
          epoch,
          index: head.b,
          size: head.req.indices.length,
          imageSize,
          images: r.images,
          labels: r.labels,
          positions: head.req.positions,
          indices: head.req.indices,
        };
      }
    },
    async close() {
      if (closed) return;
      closed = true;
      await Promise.all(outstanding);
      await local?.close();
      await Promise.all(pool.map((w) => w.stop()));
    },
  };
}
