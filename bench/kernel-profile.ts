// npm run bench -- kernel-profile [--arch resnet50] [--size 128] [--micro 8] [--steps 2] [--copies 1] [--inner]
//
// Where the time of one micro-batch's forward + backward goes, per wasm kernel: every kernel
// registered for wasm is wrapped with a timer, and time is attributed exclusively (a kernel
// run from inside another, as our conv gradients run native transposes and matMuls, is
// subtracted from its caller). The min over --steps micro-batches after one warm-up.
//
// --inner also times the native kernels (XNNPACK matMuls and convs, pads) that our kernels run
// inside themselves, listed as 'BatchMatMul < Conv2DBackpropFilter': what remains under our
// kernel's own name is then its own JavaScript and SIMD work (gathers, transposes, scatters).
//
// --copies N runs N copies of the same profile at once, each in its own process (as N
// data-parallel workers compete for memory bandwidth and the shared cache), and prints the
// per-kernel times of each copy: compare with --copies 1 to see which kernels slow down when
// two workers share the machine.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

function arg(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : dflt;
}

interface Profile { msPerMicroBatch: number; kernels: Record<string, { ms: number; calls: number }> }

async function child(): Promise<Profile> {
  const tf = await import('@tensorflow/tfjs-core');
  await import('../src/model/tf.ts');
  const { selectBackend } = await import('../src/engine/backend.ts');
  const { createResNet } = await import('../src/model/resnet.ts');
  const { binaryCrossEntropy } = await import('../src/train/bce.ts');
  const { Rng } = await import('../src/util/rng.ts');
  const times = new Map<string, { ms: number; calls: number }>();
  const stack: number[] = []; // time spent in callees of each open kernel
  const names: string[] = []; // the open kernels' names
  const inner = process.argv.includes('--inner');
  const wrapped = new WeakSet<object>();
  /** Wraps every kernel registered for wasm now (once each) with the exclusive timer. */
  const wrapAll = () => {
    for (const k of tf.getKernelsForBackend('wasm')) {
      const fn = k.kernelFunc;
      if (wrapped.has(fn)) continue;
      const timed = ((args: Parameters<typeof fn>[0]) => {
        // --inner: a native kernel run from inside one of ours is listed as 'name < ours'
        const label = inner && names.length ? `${k.kernelName} < ${names[0]}` : k.kernelName;
        stack.push(0);
        names.push(k.kernelName);
        const t0 = performance.now();
        try {
          return fn(args);
        } finally {
          const total = performance.now() - t0;
          const own = total - stack.pop()!;
          names.pop();
          if (stack.length) stack[stack.length - 1] += total;
          const e = times.get(label) ?? { ms: 0, calls: 0 };
          e.ms += own;
          e.calls++;
          times.set(label, e);
        }
      }) as typeof fn;
      wrapped.add(timed);
      tf.unregisterKernel(k.kernelName, 'wasm');
      tf.registerKernel({ ...k, kernelFunc: timed });
    }
  };
  if (inner) {
    // Wrap the native kernels before ours capture them (src/engine/wasm-kernels/compose.ts), so
    // the matMuls, convs and pads our kernels run are timed apart from our own work.
    await import('@tensorflow/tfjs-backend-wasm');
    wrapAll();
  }
  await selectBackend('wasm', { log: () => {} });
  // Kernels registered on first use must exist before the wrapping below.
  (await import('../src/engine/batch-norm/index.ts')).registerBatchNormKernels();
  wrapAll();
  const arch = arg('arch', 'resnet50') as 'resnet50';
  const size = Number(arg('size', '128'));
  const micro = Number(arg('micro', '8'));
  const steps = Number(arg('steps', '2'));
  const model = createResNet(arch, { numClasses: 1000, seed: 0 });
  const rng = new Rng(0, 1);
  const pixels = new Float32Array(micro * size * size * 3).map(() => rng.gauss());
  const labels = Int32Array.from({ length: micro }, (_, i) => (i * 37) % 1000);
  let best: Profile | null = null;
  for (let s = 0; s <= steps; s++) {
    times.clear();
    const t0 = performance.now();
    tf.tidy(() => {
      const x = tf.tensor4d(pixels, [micro, size, size, 3]);
      const { value, grads } = tf.variableGrads(() => {
        const r = model.forward(x, { training: true });
        model.discardBatchStats(r.batchStats);
        return binaryCrossEntropy(r.logits, labels, { smoothing: 0.1, targetThreshold: 0.2 });
      }, model.trainableVariables);
      value.dataSync();
      tf.dispose(Object.values(grads));
    });
    const ms = performance.now() - t0;
    if (s > 0 && (best === null || ms < best.msPerMicroBatch)) best = { msPerMicroBatch: ms, kernels: Object.fromEntries(times) };
  }
  model.dispose();
  return best!;
}

async function main(): Promise<void> {
  if (process.argv.includes('--child')) {
    process.stdout.write(`RESULT ${JSON.stringify(await child())}\n`);
    return;
  }
  const copies = Number(arg('copies', '1'));
  const self = fileURLToPath(import.meta.url);
  const passOn = process.argv.slice(2).filter((a, i, all) => a !== '--copies' && all[i - 1] !== '--copies');
  const runs = await Promise.all(Array.from({ length: copies }, () => new Promise<Profile>((resolve, reject) => {
    const c = spawn(process.execPath, ['--import', 'tsx', self, '--child', ...passOn], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    c.stdout.on('data', (d) => { out += d; });
    c.on('exit', (code) => {
      const line = out.split('\n').find((l) => l.startsWith('RESULT '));
      if (code === 0 && line) resolve(JSON.parse(line.slice(7)) as Profile);
      else reject(new Error(`kernel-profile child exited ${code}`));
    });
  })));
  const names = Object.keys(runs[0].kernels).sort((a, b) => runs[0].kernels[b].ms - runs[0].kernels[a].ms);
  console.log(`kernel (exclusive ms per micro-batch)  calls  ${runs.map((_, i) => `copy ${i + 1}`.padStart(9)).join('')}`);
  for (const n of names) {
    if (runs[0].kernels[n].ms < 1) continue;
    console.log(`${n.padEnd(38)} ${String(runs[0].kernels[n].calls).padStart(5)}  ${runs.map((r) => (r.kernels[n]?.ms ?? 0).toFixed(1).padStart(9)).join('')}`);
  }
  const sum = (r: Profile) => Object.values(r.kernels).reduce((a, k) => a + k.ms, 0);
  console.log(`${'all kernels'.padEnd(38)} ${''.padStart(5)}  ${runs.map((r) => sum(r).toFixed(0).padStart(9)).join('')}`);
  console.log(`${'wall (micro-batch fwd+bwd)'.padEnd(38)} ${''.padStart(5)}  ${runs.map((r) => r.msPerMicroBatch.toFixed(0).padStart(9)).join('')}`);
  console.log(JSON.stringify({ bench: 'kernel-profile', copies, runs }));
}

await main();
