// Data parallelism: one replica of the model per device, synchronous gradient averaging.
//
// The lead process owns the model that the optimizer updates. For an update it hands the
// global batch's micro-batches to the replicas (micro-batch j goes to replica j mod N),
// each replica returns sum_j n_j * grad_j over its micro-batches, the lead adds them up
// (the caller divides by the global batch size and applies LAMB) and the new weights are
// broadcast before the next update. BatchNorm running statistics stay per replica during
// an epoch and are averaged at the epoch's end (timm's --dist-bn reduce).
//
// Transport: worker_threads with SharedArrayBuffers. The lead writes the parameters once
// into a shared buffer that every worker reads; each worker writes its gradient sum into
// its own shared buffer. Nothing of the 4*P bytes per update is copied through messages;
// only micro-batch pixels (transferred, not copied) and a few numbers travel.
//
// With one device, `createReplicas` returns an in-process replica that computes on the
// lead's own model: no thread, no copies.
//
// GPUs: CUDA picks its devices from the environment of the *process*, so a replica per GPU
// needs a process per GPU (CUDA_VISIBLE_DEVICES); that transport is not implemented here yet
// (see docs/training.md). worker_threads replicas serve the wasm and cpu backends, one per core.
import { Worker } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import { tf } from '../model/tf.ts';
import type { ResNet } from '../model/resnet.ts';
import type { ResNetArchName } from '../model/resnet-archs.ts';
import type { ResNetOptions } from '../model/resnet-archs.ts';
import { accumulateMicroBatch, GradAccumulator, type MicroBatch, type StepConfig } from '../train/step.ts';
import type { BackendChoice } from './fingerprint.ts';

/** What a replica needs to build its copy of the model. Plain data (crosses to worker threads). */
export interface ReplicaSpec {
  backend: BackendChoice;
  arch: ResNetArchName;
  modelOptions: Partial<ResNetOptions>;
  step: StepConfig;
}

export interface GradientSum {
  /** sum over micro-batches of n * grad, in model.parameters order; the caller disposes them. */
  grads: tf.Tensor[];
  lossSum: number;
  correct: number;
  samples: number;
  /** Where the time went (ms), for benchmarks: the slowest worker's compute, and the lead's own work. */
  timing?: { workerComputeMs: number; workerIoMs: number; leadMs: number; wallMs: number };
}

export interface Replicas {
  readonly count: number;
  /** Copies the lead model's parameters AND buffers to every replica (start, resume). */
  syncAll(model: ResNet): Promise<void>;
  /** Sum of sample-weighted gradients over the micro-batches of one update. */
  gradients(model: ResNet, mbs: MicroBatch[]): Promise<GradientSum>;
  /** Epoch end: BN running stats averaged over replicas into the lead model (and back to every replica). */
  averageBatchNorm(model: ResNet): Promise<void>;
  close(): Promise<void>;
}

/** Flat offsets of a list of tensors in one Float32Array. */
export interface FlatLayout {
  offsets: number[];
  sizes: number[];
  total: number;
}

export function flatLayout(shapes: readonly (readonly number[])[]): FlatLayout {
  const offsets: number[] = [], sizes: number[] = [];
  let total = 0;
  for (const s of shapes) {
    const n = s.reduce((a, b) => a * b, 1);
    offsets.push(total);
    sizes.push(n);
    total += n;
  }
  return { offsets, sizes, total };
}

/** Variables -> flat float32 (int32 counters are stored as floats: exact below 2^24). */
export function readFlat(vars: readonly tf.Variable[], layout: FlatLayout, out: Float32Array): void {
  vars.forEach((v, i) => out.set(Float32Array.from(v.dataSync() as ArrayLike<number>), layout.offsets[i]));
}

/** Flat float32 -> variables, keeping each variable's dtype and shape. */
export function writeFlat(vars: readonly tf.Variable[], layout: FlatLayout, src: Float32Array): void {
  vars.forEach((v, i) => {
    const part = src.subarray(layout.offsets[i], layout.offsets[i] + layout.sizes[i]);
    const t = v.dtype === 'int32' ? tf.tensor(Int32Array.from(part, Math.round), v.shape, 'int32') : tf.tensor(part.slice(), v.shape, 'float32');
    v.assign(t);
    t.dispose();
  });
}

class LocalReplica implements Replicas {
  readonly count = 1;
  private readonly acc = new GradAccumulator();
  constructor(private readonly step: StepConfig) {}
  async syncAll(): Promise<void> {}
  async gradients(model: ResNet, mbs: MicroBatch[]): Promise<GradientSum> {
    const t0 = performance.now();
    this.acc.reset();
    for (const mb of mbs) accumulateMicroBatch(model, mb, this.step, this.acc);
    const sums = this.acc.tensors ?? model.parameters.map((p) => tf.zeros(p.shape));
    const ms = performance.now() - t0;
    const out = {
      grads: sums.map((t) => tf.clone(t)), lossSum: this.acc.lossSum, correct: this.acc.correct, samples: this.acc.samples,
      timing: { workerComputeMs: ms, workerIoMs: 0, leadMs: 0, wallMs: ms },
    };
    this.acc.reset();
    return out;
  }
  async averageBatchNorm(): Promise<void> {}
  async close(): Promise<void> {}
}

type Reply =
  | { id: number; type: 'ok'; lossSum?: number; correct?: number; samples?: number; timing?: { loadMs: number; computeMs: number; writeMs: number } }
  | { id: number; type: 'error'; message: string };

class WorkerHandle {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (r: Reply) => void; reject: (e: Error) => void }>();
  private dead: Error | null = null;
  constructor(readonly worker: Worker, readonly index: number) {
    worker.on('message', (r: Reply) => {
      const p = this.pending.get(r.id);
      if (!p) return;
      this.pending.delete(r.id);
      if (r.type === 'error') p.reject(new Error(`data-parallel worker ${index}: ${r.message}`));
      else p.resolve(r);
    });
    const fail = (e: Error) => {
      this.dead = e;
      for (const p of this.pending.values()) p.reject(e);
      this.pending.clear();
    };
    worker.on('error', (e) => fail(new Error(`data-parallel worker ${index} crashed: ${e.message}`)));
    worker.on('exit', (code) => { if (code !== 0) fail(new Error(`data-parallel worker ${index} exited with code ${code}`)); });
  }
  call(msg: Record<string, unknown>, transfer: ArrayBuffer[] = []): Promise<Reply> {
    if (this.dead) return Promise.reject(this.dead);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ ...msg, id }, transfer);
    });
  }
}

/** How a worker thread is started: Deno runs TypeScript itself; under Node, tsx is registered in the worker first. */
function startWorker(workerData: unknown): Worker {
  const url = new URL('./parallel-worker.ts', import.meta.url);
  if (typeof (globalThis as { Deno?: unknown }).Deno !== 'undefined') return new Worker(url, { workerData });
  const tsxApi = import.meta.resolve('tsx/esm/api');
  const boot = `import { register } from ${JSON.stringify(tsxApi)}; register(); await import(${JSON.stringify(url.href)});`;
  return new Worker(boot, { eval: true, workerData });
}

class WorkerReplicas implements Replicas {
  private constructor(
    readonly count: number,
    private readonly handles: WorkerHandle[],
    private readonly params: Float32Array,
    private readonly grads: Float32Array[],
    private readonly buffers: Float32Array[],
    private readonly pLayout: FlatLayout,
    private readonly bLayout: FlatLayout,
  ) {}

  static async start(count: number, spec: ReplicaSpec, model: ResNet): Promise<WorkerReplicas> {
    const pLayout = flatLayout(model.parameters.map((p) => p.shape));
    const bLayout = flatLayout(model.buffers.map((b) => b.shape));
    const sab = (n: number) => new Float32Array(new SharedArrayBuffer(Math.max(4, n * 4)));
    const params = sab(pLayout.total);
    const grads = Array.from({ length: count }, () => sab(pLayout.total));
    const buffers = Array.from({ length: count }, () => sab(bLayout.total));
    const handles = grads.map((g, i) =>
      new WorkerHandle(startWorker({ spec, index: i, params: params.buffer, grads: g.buffer, buffers: buffers[i].buffer }), i),
    );
    const r = new WorkerReplicas(count, handles, params, grads, buffers, pLayout, bLayout);
    try {
      await Promise.all(handles.map((h) => h.call({ type: 'init' })));
    } catch (e) {
      await r.close();
      throw e;
    }
    return r;
  }

  private publishParams(model: ResNet): void {
    readFlat(model.trainableVariables, this.pLayout, this.params);
  }

  async syncAll(model: ResNet): Promise<void> {
    this.publishParams(model);
    const bufVars = model.buffers.map((b) => b.variable);
    for (const b of this.buffers) readFlat(bufVars, this.bLayout, b);
    await Promise.all(this.handles.map((h) => h.call({ type: 'load', params: true, buffers: true })));
  }

  async gradients(model: ResNet, mbs: MicroBatch[]): Promise<GradientSum> {
    const t0 = performance.now();
    this.publishParams(model);
    const t1 = performance.now();
    const assigned: MicroBatch[][] = this.handles.map(() => []);
    mbs.forEach((mb, j) => assigned[j % this.count].push(mb));
    const replies = await Promise.all(
      this.handles.map((h, i) =>
        h.call({ type: 'grads', loadParams: true, mbs: assigned[i] }, assigned[i].flatMap((m) => [m.images.buffer as ArrayBuffer, m.targets.buffer as ArrayBuffer, m.positions.buffer as ArrayBuffer])),
      ),
    );
    const t2 = performance.now();
    // Sum in worker order (fixed), in float32 like the replicas' own accumulation.
    const total = new Float32Array(this.pLayout.total);
    replies.forEach((r, i) => {
      if ((r as { samples?: number }).samples === 0) return;
      const g = this.grads[i];
      for (let k = 0; k < total.length; k++) total[k] += g[k];
    });
    const grads = model.parameters.map((p, i) =>
      tf.tensor(total.subarray(this.pLayout.offsets[i], this.pLayout.offsets[i] + this.pLayout.sizes[i]), p.shape, 'float32'),
    );
    let lossSum = 0, correct = 0, samples = 0;
    for (const r of replies as { lossSum: number; correct: number; samples: number }[]) {
      lossSum += r.lossSum;
      correct += r.correct;
      samples += r.samples;
    }
    const okReplies = replies as { timing?: { loadMs: number; computeMs: number; writeMs: number } }[];
    const slowest = okReplies.reduce((a, r) => ((r.timing?.computeMs ?? 0) > (a.timing?.computeMs ?? 0) ? r : a), okReplies[0]);
    const t3 = performance.now();
    const timing = {
      workerComputeMs: slowest.timing?.computeMs ?? 0,
      workerIoMs: (slowest.timing?.loadMs ?? 0) + (slowest.timing?.writeMs ?? 0),
      leadMs: t1 - t0 + (t3 - t2),
      wallMs: t3 - t0,
    };
    return { grads, lossSum, correct, samples, timing };
  }

  async averageBatchNorm(model: ResNet): Promise<void> {
    await Promise.all(this.handles.map((h) => h.call({ type: 'readBuffers' })));
    const avg = new Float32Array(this.bLayout.total);
    for (const b of this.buffers) for (let k = 0; k < avg.length; k++) avg[k] += b[k];
    for (let k = 0; k < avg.length; k++) avg[k] /= this.count;
    const bufVars = model.buffers.map((b) => b.variable);
    writeFlat(bufVars, this.bLayout, avg);
    for (const b of this.buffers) b.set(avg);
    await Promise.all(this.handles.map((h) => h.call({ type: 'load', params: false, buffers: true })));
  }

  async close(): Promise<void> {
    await Promise.all(this.handles.map((h) => h.worker.terminate()));
  }
}

/**
 * Replicas for `count` devices. `model` is the lead's model (its shapes define the shared
 * buffers); call syncAll(model) before the first update and after loading a checkpoint.
 * `threads: true` uses a worker thread even for one device (benchmarks compare the two).
 */
export async function createReplicas(count: number, spec: ReplicaSpec, model: ResNet, opts: { threads?: boolean } = {}): Promise<Replicas> {
  if (!Number.isInteger(count) || count < 1) throw new Error(`devices must be a positive integer, got ${count}`);
  if (count === 1 && !opts.threads) return new LocalReplica(spec.step);
  return WorkerReplicas.start(count, spec, model);
}

export const PARALLEL_WORKER_FILE = fileURLToPath(new URL('./parallel-worker.ts', import.meta.url));
