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
// GPUs: CUDA picks its devices from the environment of the *process*, so the 'process'
// transport starts one child process per device with CUDA_VISIBLE_DEVICES set to that
// device's id; parameters and gradients then travel as IPC messages (copies), which a GPU's
// long steps amortise. The 'thread' transport (SharedArrayBuffers) serves wasm and cpu, one
// worker per core.
import { Worker } from 'node:worker_threads';
import { spawn, type ChildProcess, type Serializable } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { tf } from '../model/tf.ts';
import type { ResNet } from '../model/resnet.ts';
import type { ResNetArchName } from '../model/resnet-archs.ts';
import type { ResNetOptions } from '../model/resnet-archs.ts';
import { accumulateMicroBatch, GradAccumulator, type MicroBatch, type StepConfig } from '../train/step.ts';
import type { BackendChoice } from './fingerprint.ts';
import { directStorage } from './lamb/storage.ts';

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

/**
 * Variables -> flat float32 (int32 counters are stored as floats: exact below 2^24).
 * Float32 tensors are copied straight from the backend's storage where JS can reach it (wasm
 * heap, cpu arrays): one copy, where dataSync() would make a second (ResNet-50: 100 MB each).
 */
export function readFlat(vars: readonly tf.Variable[], layout: FlatLayout, out: Float32Array): void {
  const storage = directStorage();
  vars.forEach((v, i) => {
    const view = storage?.view(v) ?? null;
    out.set(view ?? Float32Array.from(v.dataSync() as ArrayLike<number>), layout.offsets[i]);
  });
}

/**
 * Flat float32 -> variables, keeping each variable's dtype and shape. A float32 variable gets a
 * fresh tensor filled straight from `src` where the backend's storage is reachable (one copy;
 * tf.tensor(src.slice()) makes two), never written in place (its buffer may be shared).
 */
export function writeFlat(vars: readonly tf.Variable[], layout: FlatLayout, src: Float32Array): void {
  const storage = directStorage();
  vars.forEach((v, i) => {
    const part = src.subarray(layout.offsets[i], layout.offsets[i] + layout.sizes[i]);
    let t: tf.Tensor;
    if (v.dtype === 'int32') t = tf.tensor(Int32Array.from(part, Math.round), v.shape, 'int32');
    else if (storage) {
      const fresh = storage.allocate(v.shape);
      fresh.values.set(part);
      t = fresh.tensor;
    } else t = tf.tensor(part.slice(), v.shape, 'float32');
    v.assign(t);
    t.dispose();
  });
}

/**
 * Tensors (shapes of `layout`) holding sum_i srcs[i] elementwise, summed in the order given in
 * float32, i.e. exactly what adding the arrays into a zeroed Float32Array gives. Written straight
 * into the backend's storage where reachable (one pass), else built from a flat total.
 */
export function sumFlatToTensors(srcs: readonly Float32Array[], layout: FlatLayout, shapes: readonly number[][]): tf.Tensor[] {
  const storage = directStorage();
  if (!storage || srcs.length === 0) {
    const total = new Float32Array(layout.total);
    for (const g of srcs) for (let k = 0; k < total.length; k++) total[k] += g[k];
    return shapes.map((shape, i) => tf.tensor(total.subarray(layout.offsets[i], layout.offsets[i] + layout.sizes[i]), shape, 'float32'));
  }
  return shapes.map((shape, i) => {
    const o = layout.offsets[i], n = layout.sizes[i];
    const { tensor, values } = storage.allocate([...shape]);
    // 0 + a = a exactly, so the first term is a copy; each later one rounds like `total[k] += g[k]`.
    values.set(srcs[0].subarray(o, o + n));
    for (let s = 1; s < srcs.length; s++) {
      const g = srcs[s];
      for (let k = 0; k < n; k++) values[k] += g[o + k];
    }
    return tensor;
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
  | { id: number; type: 'ok'; lossSum?: number; correct?: number; samples?: number; timing?: { loadMs: number; computeMs: number; writeMs: number }; gradsData?: Float32Array; buffersData?: Float32Array }
  | { id: number; type: 'error'; message: string };

/** A replica's message channel: a worker thread or a child process. */
interface Channel {
  post(msg: unknown, transfer: ArrayBuffer[]): void;
  on(event: 'message', f: (m: Reply) => void): void;
  onFailure(f: (e: Error) => void): void;
  close(): Promise<void>;
}

function threadChannel(w: Worker, index: number): Channel {
  return {
    post: (m, t) => w.postMessage(m, t),
    on: (_e, f) => w.on('message', f),
    onFailure: (f) => {
      w.on('error', (e) => f(new Error(`data-parallel worker ${index} crashed: ${e.message}`)));
      w.on('exit', (code) => { if (code !== 0) f(new Error(`data-parallel worker ${index} exited with code ${code}`)); });
    },
    close: async () => { await w.terminate(); },
  };
}

function processChannel(c: ChildProcess, index: number): Channel {
  let exited = false;
  c.on('exit', () => { exited = true; });
  return {
    post: (m) => c.send(m as Serializable),
    on: (_e, f) => c.on('message', (m) => f(m as Reply)),
    onFailure: (f) => {
      c.on('error', (e) => f(new Error(`data-parallel process ${index}: ${e.message}`)));
      c.on('exit', (code, sig) => { if (code !== 0) f(new Error(`data-parallel process ${index} exited (${sig ?? `code ${code}`})`)); });
    },
    close: () => new Promise((resolve) => {
      if (exited) return resolve();
      c.once('exit', () => resolve());
      c.disconnect();
      setTimeout(() => { if (!exited) c.kill('SIGKILL'); }, 2000).unref();
    }),
  };
}

class WorkerHandle {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (r: Reply) => void; reject: (e: Error) => void }>();
  private dead: Error | null = null;
  constructor(readonly channel: Channel, readonly index: number) {
    channel.on('message', (r: Reply) => {
      const p = this.pending.get(r.id);
      if (!p) return;
      this.pending.delete(r.id);
      if (r.type === 'error') p.reject(new Error(`data-parallel replica ${index}: ${r.message}`));
      else p.resolve(r);
    });
    channel.onFailure((e) => {
      this.dead = e;
      for (const p of this.pending.values()) p.reject(e);
      this.pending.clear();
    });
  }
  call(msg: Record<string, unknown>, transfer: ArrayBuffer[] = []): Promise<Reply & { type: 'ok' }> {
    if (this.dead) return Promise.reject(this.dead);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (r: Reply) => void, reject });
      this.channel.post({ ...msg, id }, transfer);
    });
  }
}

const isDeno = () => typeof (globalThis as { Deno?: unknown }).Deno !== 'undefined';

/** How a worker thread is started: Deno runs TypeScript itself; under Node, tsx is registered in the worker first. */
function startWorker(workerData: unknown): Worker {
  const url = new URL('./parallel-worker.ts', import.meta.url);
  if (isDeno()) return new Worker(url, { workerData });
  const tsxApi = import.meta.resolve('tsx/esm/api');
  const boot = `import { register } from ${JSON.stringify(tsxApi)}; register(); await import(${JSON.stringify(url.href)});`;
  return new Worker(boot, { eval: true, workerData });
}

/** A replica process with its own CUDA_VISIBLE_DEVICES (when a device id is given). */
function startProcess(spec: ReplicaSpec, deviceId: string | undefined): ChildProcess {
  const entry = fileURLToPath(new URL('./parallel-process.ts', import.meta.url));
  const env = { ...process.env, RSB_REPLICA_SPEC: JSON.stringify(spec), ...(deviceId !== undefined ? { CUDA_VISIBLE_DEVICES: deviceId } : {}) };
  const argv = isDeno() ? ['run', '-A', entry] : ['--import', import.meta.resolve('tsx'), entry];
  return spawn(process.execPath, argv, { env, stdio: ['ignore', 'inherit', 'inherit', 'ipc'], serialization: 'advanced' });
}

class WorkerReplicas implements Replicas {
  private constructor(
    /** true: replicas are processes with private memory; tensors travel in messages. */
    private readonly copy: boolean,
    readonly count: number,
    private readonly handles: WorkerHandle[],
    private readonly params: Float32Array,
    private readonly grads: Float32Array[],
    private readonly buffers: Float32Array[],
    private readonly pLayout: FlatLayout,
    private readonly bLayout: FlatLayout,
  ) {}

  static async start(count: number, spec: ReplicaSpec, model: ResNet, transport: 'thread' | 'process', deviceIds: readonly string[]): Promise<WorkerReplicas> {
    const pLayout = flatLayout(model.parameters.map((p) => p.shape));
    const bLayout = flatLayout(model.buffers.map((b) => b.shape));
    const copy = transport === 'process';
    const mem = (n: number) => (copy ? new Float32Array(Math.max(1, n)) : new Float32Array(new SharedArrayBuffer(Math.max(4, n * 4))));
    const params = mem(pLayout.total);
    const grads = Array.from({ length: count }, () => mem(pLayout.total));
    const buffers = Array.from({ length: count }, () => mem(bLayout.total));
    const handles = grads.map((g, i) =>
      new WorkerHandle(
        copy
          ? processChannel(startProcess(spec, deviceIds[i]), i)
          : threadChannel(startWorker({ spec, params: params.buffer, grads: g.buffer, buffers: buffers[i].buffer }), i),
        i,
      ),
    );
    const r = new WorkerReplicas(copy, count, handles, params, grads, buffers, pLayout, bLayout);
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
    await Promise.all(this.handles.map((h, i) => h.call({ type: 'load', params: true, buffers: true, ...(this.copy ? { paramsData: this.params, buffersData: this.buffers[i] } : {}) })));
  }

  async gradients(model: ResNet, mbs: MicroBatch[]): Promise<GradientSum> {
    const t0 = performance.now();
    this.publishParams(model);
    const t1 = performance.now();
    const assigned: MicroBatch[][] = this.handles.map(() => []);
    mbs.forEach((mb, j) => assigned[j % this.count].push(mb));
    const replies = await Promise.all(
      this.handles.map((h, i) =>
        h.call(
          { type: 'grads', loadParams: true, mbs: assigned[i], ...(this.copy ? { paramsData: this.params } : {}) },
          this.copy ? [] : transferables(assigned[i]),
        ),
      ),
    );
    if (this.copy) replies.forEach((r, i) => { if (r.gradsData) this.grads[i].set(r.gradsData); });
    const t2 = performance.now();
    // Sum in worker order (fixed), in float32 like the replicas' own accumulation.
    const contributing = this.grads.filter((_, i) => (replies[i] as { samples?: number }).samples !== 0);
    const grads = sumFlatToTensors(contributing, this.pLayout, model.parameters.map((p) => p.shape));
    let lossSum = 0, correct = 0, samples = 0;
    for (const r of replies) {
      lossSum += r.lossSum ?? 0;
      correct += r.correct ?? 0;
      samples += r.samples ?? 0;
    }
    const okReplies = replies;
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
    const got = await Promise.all(this.handles.map((h) => h.call({ type: 'readBuffers' })));
    if (this.copy) got.forEach((r, i) => { if (r.buffersData) this.buffers[i].set(r.buffersData); });
    const avg = new Float32Array(this.bLayout.total);
    for (const b of this.buffers) for (let k = 0; k < avg.length; k++) avg[k] += b[k];
    for (let k = 0; k < avg.length; k++) avg[k] /= this.count;
    const bufVars = model.buffers.map((b) => b.variable);
    writeFlat(bufVars, this.bLayout, avg);
    for (const b of this.buffers) b.set(avg);
    await Promise.all(this.handles.map((h) => h.call({ type: 'load', params: false, buffers: true, ...(this.copy ? { buffersData: avg } : {}) })));
  }

  async close(): Promise<void> {
    await Promise.all(this.handles.map((h) => h.channel.close()));
  }
}

/**
 * Replicas for `count` devices. `model` is the lead's model (its shapes define the shared
 * buffers); call syncAll(model) before the first update and after loading a checkpoint.
 * `threads: true` uses a worker thread even for one device (benchmarks compare the two).
 */
export interface ReplicaOptions {
  /** 'thread' (default for wasm/cpu): worker threads + SharedArrayBuffers. 'process': a child process per device (GPUs). */
  transport?: 'thread' | 'process';
  /** Use a worker even for one device (benchmarks compare it with computing in the lead). */
  threads?: boolean;
  /** Device ids handed to the stage; with 'process', replica i gets CUDA_VISIBLE_DEVICES=deviceIds[i]. */
  deviceIds?: readonly string[];
}

export async function createReplicas(count: number, spec: ReplicaSpec, model: ResNet, opts: ReplicaOptions = {}): Promise<Replicas> {
  if (!Number.isInteger(count) || count < 1) throw new Error(`devices must be a positive integer, got ${count}`);
  const transport = opts.transport ?? 'thread';
  if (count === 1 && !opts.threads && transport === 'thread') return new LocalReplica(spec.step);
  return WorkerReplicas.start(count, spec, model, transport, opts.deviceIds ?? []);
}

/** Buffers of the micro-batches to transfer (not copy) to a worker thread; each distinct buffer once. */
function transferables(mbs: readonly MicroBatch[]): ArrayBuffer[] {
  const out = new Set<ArrayBuffer>();
  for (const m of mbs) {
    for (const a of [m.images, m.targets, m.positions]) {
      // Only whole, unshared buffers: transferring a view's larger buffer would detach other data.
      if (a.byteOffset === 0 && a.byteLength === a.buffer.byteLength && a.buffer instanceof ArrayBuffer) out.add(a.buffer);
    }
  }
  return [...out];
}

export const PARALLEL_WORKER_FILE = fileURLToPath(new URL('./parallel-worker.ts', import.meta.url));
