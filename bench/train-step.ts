// npm run bench -- train-step [--quick] [--backends wasm,cpu] [--configs r50@128,r50@224,r18@64]
//                             [--steps N] [--warmup N] [--micro N]
//
// Throughput of a full training step (forward, backward, LAMB update) per backend, for the
// models and resolutions the issue names, against PyTorch's CPU figures on the same machine.
// Each (backend, config) runs in its own child process, so peak RSS and the wasm heap (which
// only ever grows) are that run's own. Prints a table, then one JSON line.
//
// --quick     each config runs ONE micro-batch (no accumulation), 1 warm-up + 1 timed step.
// --backends  subset of tensorflow,wasm,cpu (default: every one that loads here).
// --configs   subset of r50@128, r50@224, r18@64 (default: all three).
// --steps/--warmup  timed and warm-up steps (default 2 and 1; the cpu backend 1 and 0: it is slow
//             and has no per-weight state to warm up).
// --micro     micro-batch size (default: the largest whose activations fit the memory budget).
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { resnetWork } from '../src/engine/flops.ts';
import { planMicroBatches } from '../src/engine/micro-batch.ts';
import { resnetMemoryPlan } from '../src/engine/memory-plan.ts';
import { installedNativePackage, packageDir, parseBackendChoice, type BackendName } from '../src/engine/fingerprint.ts';
import { MachineWatch } from './machine.ts';

const watch = new MachineWatch();

interface Config {
  id: string;
  arch: 'resnet50' | 'resnet18';
  resolution: number;
  batch: number;
  /** PyTorch 1.13 CPU (oneDNN), 2 threads, on this machine (issue 5). */
  torchImagesPerSecond: number;
}

const CONFIGS: Config[] = [
  { id: 'r50@128', arch: 'resnet50', resolution: 128, batch: 32, torchImagesPerSecond: 16.0 },
  { id: 'r50@224', arch: 'resnet50', resolution: 224, batch: 16, torchImagesPerSecond: 4.3 },
  { id: 'r18@64', arch: 'resnet18', resolution: 64, batch: 64, torchImagesPerSecond: 123 },
];

/** The target: one wasm worker at >= 15% of PyTorch's 2-thread throughput. */
const TARGET_FRACTION = 0.15;

interface Job {
  backend: BackendName;
  config: Config;
  micro: number;
  batch: number;
  steps: number;
  warmup: number;
}

interface Result {
  backend: BackendName;
  config: string;
  arch: string;
  resolution: number;
  batch: number;
  micro: number;
  microBatches: number;
  steps: number;
  stepSeconds: number;
  optimizerSeconds: number;
  imagesPerSecond: number;
  forwardBackwardImagesPerSecond: number;
  gflopsPerSecond: number;
  /** A plain 1024^3 matMul on the same backend, same process, right after: this machine's attainable rate now (the CPU is shared). */
  matMulGflopsPerSecond: number;
  peakRssMiB: number;
  wasmHeapMiB: number | null;
  torchImagesPerSecond: number;
  fractionOfTorch: number;
  notices: string[];
}

function parseArgs(argv: string[]) {
  const opts = { quick: false, backends: null as BackendName[] | null, configs: null as string[] | null, steps: null as number | null, warmup: null as number | null, micro: null as number | null, child: null as string | null };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    const int = (v: string) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 0) throw new Error(`${a} needs a non-negative integer, got '${v}'`);
      return n;
    };
    if (a === '--quick') opts.quick = true;
    else if (a === '--backends') opts.backends = value().split(',').map((b) => {
      const c = parseBackendChoice(b, '--backends');
      if (c === 'auto') throw new Error('--backends takes tensorflow, wasm or cpu, not auto');
      return c;
    });
    else if (a === '--configs') {
      opts.configs = value().split(',');
      for (const c of opts.configs) if (!CONFIGS.some((k) => k.id === c)) throw new Error(`unknown config '${c}' (known: ${CONFIGS.map((k) => k.id).join(', ')})`);
    } else if (a === '--steps') {
      opts.steps = int(value());
      if (opts.steps === 0) throw new Error('--steps must be at least 1');
    }
    else if (a === '--warmup') opts.warmup = int(value());
    else if (a === '--micro') {
      opts.micro = int(value());
      if (opts.micro === 0) throw new Error('--micro must be at least 1');
    }
    else if (a === '--child') opts.child = value();
    else if (a === '--help' || a === '-h') {
      console.log(readUsage());
      process.exit(0);
    } else throw new Error(`unknown option '${a}' (see --help)`);
  }
  return opts;
}

function readUsage(): string {
  return 'usage: npm run bench -- train-step [--quick] [--backends wasm,cpu,tensorflow] [--configs r50@128,r50@224,r18@64] [--steps N] [--warmup N] [--micro N]';
}

/** The micro-batch that keeps one step within the wasm heap (used for every backend, for comparable numbers). */
function defaultMicro(config: Config): number {
  return resnetMemoryPlan({ arch: config.arch, resolution: config.resolution, batch: config.batch }).microBatch;
}

// ---------------------------------------------------------------- child: one (backend, config)

async function runJob(job: Job): Promise<Result> {
  const tf = await import('@tensorflow/tfjs-core');
  await import('../src/model/tf.ts'); // registers tfjs-core's gradients (see that file)
  const { selectBackend } = await import('../src/engine/backend.ts');
  const { accumulateGradients } = await import('../src/engine/micro-batch.ts');
  const { createResNet } = await import('../src/model/resnet.ts');
  const { binaryCrossEntropy } = await import('../src/train/bce.ts');
  const { Lamb } = await import('../src/train/lamb.ts');
  const { groupParams } = await import('../src/train/optimizer-base.ts');
  const { Rng } = await import('../src/util/rng.ts');
  type BatchStats = import('../src/model/index.ts').BatchStats;

  const selected = await selectBackend(job.backend, { log: () => {} });
  const { config } = job;
  const model = createResNet(config.arch, { numClasses: 1000, seed: 0 });
  const opt = new Lamb(groupParams(model.parameters.map((p) => ({ name: p.name, variable: p.variable })), 0.02, '1d-and-bias'));
  const plan = planMicroBatches(job.batch, job.micro);
  // Inputs: normalised-looking random images (the data pipeline is not what is measured here).
  const rng = new Rng(0, 1);
  const pixels = new Float32Array(job.batch * config.resolution ** 2 * 3);
  for (let i = 0; i < pixels.length; i++) pixels[i] = rng.gauss();
  const labels = Int32Array.from({ length: job.batch }, (_, i) => (i * 37) % 1000);
  const perImage = config.resolution ** 2 * 3;

  let peakRss = process.memoryUsage().rss;
  const step = (): { total: number; optimizer: number } => {
    const t0 = performance.now();
    const stats: BatchStats[][] = [];
    const { loss, grads } = accumulateGradients(plan, (mb) => {
      const x = tf.tensor4d(pixels.subarray(mb.start * perImage, (mb.start + mb.size) * perImage), [mb.size, config.resolution, config.resolution, 3]);
      const r = model.forward(x, { training: true });
      stats.push(r.batchStats);
      const l = binaryCrossEntropy(r.logits, labels.subarray(mb.start, mb.start + mb.size), { smoothing: 0.1, targetThreshold: 0.2 });
      peakRss = Math.max(peakRss, process.memoryUsage().rss);
      return l;
    }, model.trainableVariables);
    for (const s of stats) model.commitBatchStats(s);
    const byName: Record<string, import('@tensorflow/tfjs-core').Tensor> = {};
    for (const p of model.parameters) byName[p.name] = grads[p.variable.name];
    loss.dataSync(); // the wasm and cpu backends compute synchronously; this also covers tensorflow's
    const t1 = performance.now();
    opt.step(byName, 0.005);
    model.parameters[0].variable.dataSync();
    const t2 = performance.now();
    tf.dispose([loss, ...Object.values(grads)]);
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
    return { total: (t2 - t0) / 1000, optimizer: (t2 - t1) / 1000 };
  };

  for (let i = 0; i < job.warmup; i++) step();
  let total = 0, optimizer = 0;
  for (let i = 0; i < job.steps; i++) {
    const s = step();
    total += s.total;
    optimizer += s.optimizer;
  }
  // Calibration: what a large, plain matrix product reaches on this backend right now.
  const a = tf.randomNormal([1024, 1024]);
  const b = tf.randomNormal([1024, 1024]);
  tf.matMul(a, b).dispose();
  const tm = performance.now();
  for (let i = 0; i < 3; i++) tf.matMul(a, b).dispose();
  const matMulGflopsPerSecond = (3 * 2 * 1024 ** 3) / ((performance.now() - tm) / 1000) / 1e9;
  tf.dispose([a, b]);
  const stepSeconds = total / job.steps;
  const optimizerSeconds = optimizer / job.steps;
  const work = resnetWork(config.arch, config.resolution);
  const backendImpl = tf.backend() as unknown as { wasm?: { HEAPU8: Uint8Array } };
  const maxRss = process.resourceUsage().maxRSS * 1024;
  return {
    backend: selected.name,
    config: config.id,
    arch: config.arch,
    resolution: config.resolution,
    batch: job.batch,
    micro: job.micro,
    microBatches: plan.length,
    steps: job.steps,
    stepSeconds,
    optimizerSeconds,
    imagesPerSecond: job.batch / stepSeconds,
    forwardBackwardImagesPerSecond: job.batch / (stepSeconds - optimizerSeconds),
    gflopsPerSecond: (job.batch * work.trainFlops) / stepSeconds / 1e9,
    matMulGflopsPerSecond,
    peakRssMiB: Math.max(peakRss, maxRss) / 2 ** 20,
    wasmHeapMiB: backendImpl.wasm ? backendImpl.wasm.HEAPU8.byteLength / 2 ** 20 : null,
    torchImagesPerSecond: config.torchImagesPerSecond,
    fractionOfTorch: job.batch / stepSeconds / config.torchImagesPerSecond,
    notices: selected.notices,
  };
}

// ---------------------------------------------------------------- parent: plan, spawn, report

function availableBackends(): BackendName[] {
  const out: BackendName[] = [];
  if (installedNativePackage() !== null) out.push('tensorflow');
  if (packageDir('@tensorflow/tfjs-backend-wasm') !== null) out.push('wasm');
  out.push('cpu');
  return out;
}

function pad(s: string | number, n: number): string {
  return String(s).padStart(n);
}

async function main(): Promise<void> {
  const opts = parseArgs(process.argv.slice(2));
  if (opts.child !== null) {
    const job = JSON.parse(opts.child) as Job;
    const result = await runJob(job);
    process.stdout.write(`RESULT ${JSON.stringify(result)}\n`);
    return;
  }
  const backends = opts.backends ?? availableBackends();
  const configs = CONFIGS.filter((c) => opts.configs === null || opts.configs.includes(c.id));
  const results: Result[] = [];
  const failures: { backend: string; config: string; error: string }[] = [];
  const self = fileURLToPath(import.meta.url);
  for (const backend of backends) {
    for (const config of configs) {
      const micro = Math.min(opts.micro ?? defaultMicro(config), config.batch);
      const job: Job = {
        backend,
        config,
        micro,
        batch: opts.quick ? micro : config.batch,
        steps: opts.steps ?? (opts.quick || backend === 'cpu' ? 1 : 2),
        warmup: opts.warmup ?? (backend === 'cpu' ? 0 : 1),
      };
      process.stderr.write(`train-step: ${backend} ${config.id} batch ${job.batch} (micro ${micro}), ${job.warmup} warm-up + ${job.steps} timed step(s)...\n`);
      const r = spawnSync(process.execPath, ['--import', 'tsx', self, '--child', JSON.stringify(job)], { encoding: 'utf8', maxBuffer: 64 * 2 ** 20 });
      const line = (r.stdout ?? '').split('\n').find((l) => l.startsWith('RESULT '));
      if (r.status !== 0 || !line) {
        const why = (r.stderr || r.stdout || `exit ${r.status} ${r.signal ?? ''}`).trim().split('\n').filter((l) => l.trim()).slice(-3).join(' | ');
        failures.push({ backend, config: config.id, error: why });
        process.stderr.write(`train-step: ${backend} ${config.id} failed: ${why}\n`);
        continue;
      }
      results.push(JSON.parse(line.slice('RESULT '.length)) as Result);
    }
  }

  const header = ['backend', 'model', 'px', 'batch', 'micro', 'img/s', 'fwd+bwd img/s', 'LAMB s', 'GFLOP/s', 'matMul GFLOP/s', 'peak RSS MiB', 'wasm heap MiB', 'torch 2T img/s', 'vs torch'];
  const rows = results.map((r) => [
    r.backend, r.arch, r.resolution, r.batch, `${r.micro}x${r.microBatches}`, r.imagesPerSecond.toFixed(2), r.forwardBackwardImagesPerSecond.toFixed(2),
    r.optimizerSeconds.toFixed(2), r.gflopsPerSecond.toFixed(1), r.matMulGflopsPerSecond.toFixed(1), r.peakRssMiB.toFixed(0), r.wasmHeapMiB === null ? '-' : r.wasmHeapMiB.toFixed(0),
    r.torchImagesPerSecond, `${(100 * r.fractionOfTorch).toFixed(1)}%`,
  ].map(String));
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  console.log(header.map((h, i) => pad(h, widths[i])).join('  '));
  for (const row of rows) console.log(row.map((c, i) => pad(c, widths[i])).join('  '));
  for (const f of failures) console.log(`FAILED ${f.backend} ${f.config}: ${f.error}`);
  const target = results.find((r) => r.backend === 'wasm' && r.config === 'r50@128');
  if (target) {
    const need = TARGET_FRACTION * target.torchImagesPerSecond;
    console.log(`target: one wasm worker >= ${need.toFixed(1)} img/s on resnet50 @128 (15% of PyTorch 2 threads): ${target.imagesPerSecond >= need ? 'met' : 'NOT met'} (${target.imagesPerSecond.toFixed(2)} img/s)`);
  }
  console.log(watch.describe());
  console.log(JSON.stringify({ bench: 'train-step', quick: opts.quick, results, failures, machine: watch.state() }));
  if (results.length === 0) process.exitCode = 1;
}

main().catch((e: unknown) => {
  console.error(`train-step: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(2);
});
