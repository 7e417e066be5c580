// npm run bench -- train [--backend wasm] [--updates 3] [--seconds 8] [--warmup-seconds 3]
//                        [--only embedded,resnet50-128,resnet50-224] [--workers 1,2]
//                        [--batch 16,64] [--micro 8] [--transport thread|process]
//
// --updates, --seconds  each row times at least this many updates and at least this long.
// --warmup-seconds  untimed updates first, at least one and at least this long (see measure()).
// --batch  global batch(es) per update, comma-separated, for every selected config (default: each
//          config's own). The once-per-update work (gradient sum, LAMB, weight broadcast) weighs
//          less the larger the batch; the recipes train at 2048 by gradient accumulation, so a
//          realistic figure needs a batch of several micro-batches per worker.
// --micro  micro-batch size (default: the config's); must divide every --batch.
// --transport  how workers run: 'thread' (default for wasm/cpu: worker threads sharing memory)
//          or 'process' (a child process each, weights and gradients copied through IPC).
//
// Training throughput (images/s) per data-parallel worker count: forward + backward over the
// micro-batches of a global batch, gradient all-reduce across workers, LAMB step, weight
// broadcast. Pixels and targets are synthetic (the data loader is measured by `bench data`),
// so this isolates the compute and the parallel machinery. Prints a table, then one JSON line.
// Figures measured on a shared or loaded machine are indicative only.
import { availableParallelism, cpus } from 'node:os';
import { selectBackend } from '../src/engine/backend.ts';
import { createReplicas } from '../src/engine/parallel.ts';
import { createResNet } from '../src/model/resnet.ts';
import type { ResNetArchName } from '../src/model/resnet-archs.ts';
import { createOptimizer } from '../src/train/optimizer.ts';
import { tf } from '../src/model/tf.ts';
import { Rng } from '../src/util/rng.ts';
import type { MicroBatch, StepConfig } from '../src/train/step.ts';
import { getProfile } from '../src/pipeline/profiles.ts';
import { MachineWatch } from './machine.ts';

const watch = new MachineWatch();

interface Config { name: string; arch: ResNetArchName; size: number; classes: number; globalBatch: number; microBatch: number; pytorch2Threads: number | null }

const embedded = getProfile('embedded');
const CONFIGS: Config[] = [
  // The embedded profile as the README command trains it (A1: 56 px, batch 64 in micro-batches of 32).
  { name: 'embedded', arch: embedded.arch as ResNetArchName, size: 56, classes: embedded.dataset.classes, globalBatch: embedded.globalBatch!, microBatch: embedded.microBatch, pytorch2Threads: null },
  // PyTorch 1.13 CPU, 2 threads, on the project's 2-core reference machine (issue 5): 16.0 and 4.3 images/s.
  // Global batches of several micro-batches per worker, as training accumulates them (the recipes:
  // 2048): at one micro-batch per worker the once-per-update LAMB (~0.3 s) and weight sync weigh
  // ~10 % of an update, which real runs pay once per 2048 images. `--batch 16` shows that case.
  { name: 'resnet50-128', arch: 'resnet50', size: 128, classes: 1000, globalBatch: 64, microBatch: 8, pytorch2Threads: 16.0 },
  { name: 'resnet50-224', arch: 'resnet50', size: 224, classes: 1000, globalBatch: 16, microBatch: 4, pytorch2Threads: 4.3 },
];

function arg(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : dflt;
}

function microBatches(c: Config, epoch: number): MicroBatch[] {
  const rng = new Rng(1, epoch);
  return Array.from({ length: c.globalBatch / c.microBatch }, (_, j) => {
    const n = c.microBatch;
    const images = new Uint8Array(n * c.size * c.size * 3);
    for (let k = 0; k < images.length; k++) images[k] = rng.nextUint32() & 255;
    const targets = new Float32Array(n * c.classes);
    for (let i = 0; i < n; i++) targets[i * c.classes + rng.randint(0, c.classes - 1)] = 1;
    return { epoch, n, height: c.size, width: c.size, images, targets, positions: Int32Array.from({ length: n }, (_, i) => j * n + i) };
  });
}

interface Breakdown { computeMs: number; workerIoMs: number; leadMs: number; optimizerMs: number }

async function measure(c: Config, workers: number, updates: number, backend: 'wasm' | 'cpu' | 'tensorflow', threads = false): Promise<{ updates: number; warmup: number; ips: number; perUpdate: Breakdown }> {
  const model = createResNet(c.arch, { numClasses: c.classes, dropPathRate: 0.05 });
  const opt = await createOptimizer({ name: 'lamb', weightDecay: 0.01, weightDecayExempt: '1d-and-bias', betas: [0.9, 0.999], eps: 1e-6, maxGradNorm: 1 }, model.parameters.map((p) => ({ name: p.name, variable: p.variable })));
  const step: StepConfig = { numClasses: c.classes, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225], loss: { kind: 'bce', targetThreshold: 0.2 }, seed: 0 };
  const replicas = await createReplicas(workers, { backend, arch: c.arch, modelOptions: { numClasses: c.classes, dropPathRate: 0.05 }, step }, model, { threads, transport });
  try {
    await replicas.syncAll(model);
    // Synthetic data, made before timing (drawing every pixel from the generator costs the lead
    // ~4 ms an update on the embedded config); each update gets fresh copies, since the thread
    // transport hands the buffers over to the workers.
    const pool = [microBatches(c, 0), microBatches(c, 1)];
    const copyOf = (mbs: MicroBatch[]): MicroBatch[] => mbs.map((m) => ({ ...m, images: m.images.slice(), targets: m.targets.slice(), positions: m.positions.slice() }));
    /** One update: gradients from the replicas, then LAMB on the lead; its parts in ms. */
    const update = async (u: number): Promise<Breakdown> => {
      const g = await replicas.gradients(model, copyOf(pool[u % pool.length]));
      const ts = performance.now();
      const grads: Record<string, tf.Tensor> = {};
      model.parameters.forEach((p, i) => { grads[p.name] = tf.div(g.grads[i], g.samples); g.grads[i].dispose(); });
      opt.step(grads, 1e-3);
      for (const t of Object.values(grads)) t.dispose();
      return { computeMs: g.timing?.workerComputeMs ?? 0, workerIoMs: g.timing?.workerIoMs ?? 0, leadMs: g.timing?.leadMs ?? 0, optimizerMs: performance.now() - ts };
    };
    // Warm-up: at least one update (kernel setup, first allocations) and at least warmupSeconds.
    // Fresh workers run their first updates slower while V8 optimises their code on background
    // threads, which two busy workers starve on two cores: the embedded profile's 2-worker
    // updates took 394, 197, 139, 146, 140, 120 ms, then ~100 from the seventh on, so one update
    // of warm-up measured its 2 workers ~30 % low.
    const start = performance.now();
    let warm = 0;
    do await update(warm++);
    while (performance.now() - start < warmupSeconds * 1000);
    // Timed: at least `updates`, and at least minSeconds.
    const sum: Breakdown = { computeMs: 0, workerIoMs: 0, leadMs: 0, optimizerMs: 0 };
    const t0 = performance.now();
    let timed = 0;
    while (timed < updates || performance.now() - t0 < minSeconds * 1000) {
      const b = await update(warm + timed++);
      for (const key of Object.keys(sum) as (keyof Breakdown)[]) sum[key] += b[key];
    }
    const seconds = (performance.now() - t0) / 1000;
    const per = (x: number) => x / timed;
    return { updates: timed, warmup: warm, ips: (timed * c.globalBatch) / seconds, perUpdate: { computeMs: per(sum.computeMs), workerIoMs: per(sum.workerIoMs), leadMs: per(sum.leadMs), optimizerMs: per(sum.optimizerMs) } };
  } finally {
    await replicas.close();
    opt.dispose();
    model.dispose();
  }
}

const backendChoice = arg('backend', 'wasm') as 'wasm' | 'cpu' | 'tensorflow';
const updates = Number(arg('updates', '3'));
const minSeconds = Number(arg('seconds', '8'));
const warmupSeconds = Number(arg('warmup-seconds', '3'));
const only = arg('only', CONFIGS.map((c) => c.name).join(',')).split(',');
// '1t' = one worker thread (instead of computing in the lead thread), to isolate thread overheads.
const workerCounts = arg('workers', '1,2').split(',');
const transportArg = arg('transport', 'thread');
if (transportArg !== 'thread' && transportArg !== 'process') throw new Error(`bench train: --transport thread|process, got '${transportArg}'`);
const transport: 'thread' | 'process' = transportArg;
const batchArg = arg('batch', '');
const microArg = arg('micro', '');
/** The configs to run: each selected config at each --batch, with --micro applied. */
function expand(c: Config): Config[] {
  const microBatch = microArg ? Number(microArg) : c.microBatch;
  const batches = batchArg ? batchArg.split(',').map(Number) : [c.globalBatch];
  return batches.map((globalBatch) => {
    if (!Number.isInteger(globalBatch) || !Number.isInteger(microBatch) || microBatch < 1 || globalBatch % microBatch !== 0) {
      throw new Error(`bench train: --batch ${globalBatch} must be a positive multiple of --micro ${microBatch}`);
    }
    return { ...c, globalBatch, microBatch };
  });
}
const be = await selectBackend(backendChoice, { log: () => {} });
const rows: { config: string; arch: string; size: number; batch: number; micro: number; workers: number | string; timedUpdates: number; warmupUpdates: number; imagesPerSec: number; speedup: number | null; vsPytorch: number | null; msPerUpdate: Breakdown; projectedAtBatch2048: number }[] = [];
for (const c of CONFIGS.filter((x) => only.includes(x.name)).flatMap(expand)) {
  let base: number | null = null;
  for (const w of workerCounts) {
    const { ips, perUpdate, updates: timedUpdates, warmup } = await measure(c, parseInt(w, 10), updates, be.name, w.endsWith('t'));
    base ??= ips;
    // The per-update costs (weight broadcast, gradient sum, LAMB on the lead) are paid once per
    // global batch; the recipes' batch is 2048, so project the rate at that batch from the parts.
    const k = 2048 / c.globalBatch;
    const at2048 = (2048 * 1000) / (k * perUpdate.computeMs + perUpdate.workerIoMs + perUpdate.leadMs + perUpdate.optimizerMs);
    rows.push({ config: c.name, arch: c.arch, size: c.size, batch: c.globalBatch, micro: c.microBatch, workers: w, timedUpdates, warmupUpdates: warmup, imagesPerSec: ips, speedup: ips / base, vsPytorch: c.pytorch2Threads ? ips / c.pytorch2Threads : null, msPerUpdate: perUpdate, projectedAtBatch2048: at2048 });
    process.stderr.write(`${c.name} batch ${c.globalBatch} (micro ${c.microBatch}) x${w}: ${ips.toFixed(2)} images/s\n`);
  }
}
console.log(`backend ${be.name}, ${availableParallelism()} cores (${cpus()[0]?.model ?? 'unknown cpu'}), per row at least ${updates} timed updates and ${minSeconds} s after at least ${warmupSeconds} s of warm-up (counts in the JSON); synthetic pixels, data loading excluded`);
console.log('config         arch          px  batch  micro  workers  images/s  speedup  vs PyTorch 2 thr  @2048 (projected)  | ms/update: compute(slowest worker)  worker io  lead sync  optimizer');
for (const r of rows) {
  const b = r.msPerUpdate;
  console.log(`${r.config.padEnd(14)} ${r.arch.padEnd(12)} ${String(r.size).padStart(4)}  ${String(r.batch).padStart(5)}  ${String(r.micro).padStart(5)}  ${String(r.workers).padStart(7)}  ${r.imagesPerSec.toFixed(2).padStart(8)}  ${(r.speedup ?? 1).toFixed(2).padStart(7)}  ${(r.vsPytorch === null ? '-' : (100 * r.vsPytorch).toFixed(0) + ' %').padStart(15)}  ${r.projectedAtBatch2048.toFixed(2).padStart(17)}  | ${b.computeMs.toFixed(0).padStart(33)}  ${b.workerIoMs.toFixed(0).padStart(9)}  ${b.leadMs.toFixed(0).padStart(9)}  ${b.optimizerMs.toFixed(0).padStart(9)}`);
}
console.log(watch.describe());
console.log(JSON.stringify({ bench: 'train', backend: be.name, cores: availableParallelism(), updates, rows, machine: watch.state() }));
