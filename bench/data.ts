// npm run bench -- data [--n 400] [--size 224] [--rounds 5] [--images 32] [--ops-only]
// Images per second per core for the data paths, on 500x375 quality-90 JPEGs made here
// with sharp (the reference setup of issue 3):
//   train-basic  decode + RandomResizedCrop 224 (random bilinear/bicubic) + flip
//   train-ra     the same + RandAugment rand-m7-mstd0.5-inc1 (2 ops)
//   eval         decode + resize shorter side to 235 (bicubic) + centre crop 224
//   decode-only  the decode alone
// Each of these four runs with the exact decoder (sharp; the plain row name, as before) and
// with the fast one (libjpeg-turbo's fast IDCT; the row name + ' fast'), interleaved in the
// same rounds. Training defaults to 'fast', evaluation to 'exact' (docs/transforms.md).
//   train-ra js  train-ra (both decoders) with RandAugment's WebAssembly kernels switched off
//   train-ra x2  train-ra with two images in flight (a loader worker's default)
//   randaug-only RandAugment alone on ready 224x224 crops (a copy of the crop, then the ops
//                in its buffer, as trainSample runs them): where train-ra's extra time goes;
//                'randaug-only js' the same with the kernels off
//   prepare      src/data/prepare.ts's prepare() over a folder of these JPEGs, if present
// Then a per-op table of RandAugment (where train-ra's extra time goes, op by op): each op at
// magnitude 7 on a S x S crop of these pictures, microseconds per call, with the WebAssembly
// kernels (augment-simd.ts, the default) and with them switched off (the plain JavaScript),
// interleaved in the same rounds; `--ops-only` prints just that table (a few seconds).
// One image is in flight at a time (except 'x2'), so the process uses about one core; the rate
// is also given per CPU-second (user + system of this process, libvips threads included).
// A table, then one JSON line; a line under the table says whether the machine was quiet.
import sharp from 'sharp';
import { parseArgs } from 'node:util';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Rng } from '../src/util/rng.ts';
import { trainSample, trainImage, evalSample, trainOptions, evalOptions, RandAugment, decodeFast, fastDecoderStatus } from '../src/data/transforms/index.ts';
import { applyOp, fillFromMean, INCREASING_OPS, LEVEL_FNS, type OpName } from '../src/data/transforms/randaugment.ts';
import { augmentKernels, setAugmentKernels } from '../src/data/transforms/augment-simd.ts';
import type { RgbImage } from '../src/data/transforms/image.ts';
import type { TrainTransformOptions } from '../src/data/transforms/index.ts';
import { MachineWatch } from './machine.ts';

const watch = new MachineWatch();

const { values } = parseArgs({
  options: {
    n: { type: 'string', default: '400' }, size: { type: 'string', default: '224' },
    images: { type: 'string', default: '32' }, rounds: { type: 'string', default: '5' },
    'ops-only': { type: 'boolean', default: false },
  },
});
const N = Number(values.n), S = Number(values.size), NIMG = Number(values.images), ROUNDS = Number(values.rounds);

/** Photo-like test images: smooth gradients, edges, texture and a little noise, 500x375. */
async function makeJpegs(count: number): Promise<Uint8Array[]> {
  const W = 500, H = 375;
  const out: Uint8Array[] = [];
  for (let k = 0; k < count; k++) {
    const rng = new Rng(12345, k);
    const raw = Buffer.alloc(W * H * 3);
    const cx = rng.uniform(100, 400), cy = rng.uniform(80, 300), r = rng.uniform(40, 140);
    const base = [rng.randint(0, 255), rng.randint(0, 255), rng.randint(0, 255)];
    for (let y = 0; y < H; y++) {
      for (let x = 0; x < W; x++) {
        const p = (y * W + x) * 3;
        const inside = (x - cx) ** 2 + (y - cy) ** 2 < r * r;
        const tex = 24 * Math.sin(x / (3 + k % 5)) * Math.cos(y / 7);
        for (let c = 0; c < 3; c++) {
          const v = (inside ? 255 - base[c] : base[c]) * 0.6 + (c === 0 ? x : c === 1 ? y : x + y) * 0.15 + tex + rng.uniform(-8, 8);
          raw[p + c] = Math.max(0, Math.min(255, Math.round(v)));
        }
      }
    }
    out.push(await sharp(raw, { raw: { width: W, height: H, channels: 3 } }).jpeg({ quality: 90 }).toBuffer());
  }
  return out;
}

interface Row { path: string; decoder: string; pil?: string; images: number; perSecond: number; perCpuSecond: number }

/**
 * `inFlight` images are processed concurrently (default 1), as a loader worker does.
 * `decoder` is what the row decodes with; `pil` names the row of issue 3 it is compared to.
 */
type Path = { name: string; decoder: string; pil?: string; one: (jpeg: Uint8Array, k: number) => Promise<unknown>; inFlight?: number };

/**
 * The paths run in interleaved rounds (A B C D, A B C D, ...) and each figure is the
 * median over rounds, so a burst of load from other processes hits every path alike
 * instead of skewing one of them.
 */
async function measureAll(paths: Path[], jpegs: Uint8Array[]): Promise<Row[]> {
  const perRound = Math.max(1, Math.floor(N / ROUNDS));
  for (const p of paths) for (let k = 0; k < 20; k++) await p.one(jpegs[k % jpegs.length], k); // warm up the JIT
  const wall = paths.map(() => [] as number[]);
  const cpu = paths.map(() => [] as number[]);
  let k = 0;
  for (let r = 0; r < ROUNDS; r++) {
    for (let pi = 0; pi < paths.length; pi++) {
      const t0 = performance.now();
      const c0 = process.cpuUsage();
      const lanes = paths[pi].inFlight ?? 1;
      let next = 0;
      const base = k;
      const lane = async () => {
        while (next < perRound) {
          const i = base + next++;
          await paths[pi].one(jpegs[i % jpegs.length], i);
        }
      };
      await Promise.all(Array.from({ length: lanes }, lane));
      k += perRound;
      const c = process.cpuUsage(c0);
      wall[pi].push(perRound / ((performance.now() - t0) / 1000));
      cpu[pi].push(perRound / ((c.user + c.system) / 1e6));
    }
  }
  return paths.map((p, pi) => ({ path: p.name, decoder: p.decoder, pil: p.pil, images: perRound * ROUNDS, perSecond: median(wall[pi]), perCpuSecond: median(cpu[pi]) }));
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}


/** Runs one sample with the kernels off (one image in flight, so nothing else sees the switch). */
async function withoutKernels<T>(f: () => Promise<T>): Promise<T> {
  setAugmentKernels(false);
  try {
    return await f();
  } finally {
    setAugmentKernels(true);
  }
}

const GEOMETRIC: ReadonlySet<OpName> = new Set<OpName>(['Rotate', 'ShearX', 'ShearY', 'TranslateXRel', 'TranslateYRel']);

interface OpRow { op: OpName; filter: string; args: number[]; js: number; kernel: number }

/**
 * Microseconds per call of each op (magnitude 7, the sign and args fixed per op) on `img`,
 * the kernels on and off in alternation: per round, 20 calls of each op in each mode; the
 * median over rounds. Writes into one reused buffer, as RandAugment.apply does.
 */
function measureOps(img: RgbImage, rounds: number): OpRow[] {
  const cases = INCREASING_OPS.flatMap((op) => (GEOMETRIC.has(op) ? ['bilinear', 'bicubic'] as const : ['bilinear'] as const).map((filter, k) => {
    const level = LEVEL_FNS[op];
    return { op, filter, args: level ? level(7, new Rng(5, k)) : [] };
  }));
  const into = new Uint8Array(img.data.length);
  const CALLS = 20;
  const time = (c: (typeof cases)[number], kernels: boolean) => {
    setAugmentKernels(kernels);
    const t0 = performance.now();
    for (let i = 0; i < CALLS; i++) applyOp(img, c.op, c.args, c.filter, [124, 116, 104], into);
    return ((performance.now() - t0) / CALLS) * 1000;
  };
  for (const c of cases) { time(c, false); time(c, true); } // warm up both
  const js = cases.map(() => [] as number[]), kernel = cases.map(() => [] as number[]);
  for (let r = 0; r < rounds; r++) {
    cases.forEach((c, i) => {
      // alternate which mode goes first, so neither always runs on a warmer cache
      if (r % 2) { kernel[i].push(time(c, true)); js[i].push(time(c, false)); }
      else { js[i].push(time(c, false)); kernel[i].push(time(c, true)); }
    });
  }
  setAugmentKernels(true);
  return cases.map((c, i) => ({ op: c.op, filter: c.filter, args: c.args, js: median(js[i]), kernel: median(kernel[i]) }));
}

/** Expected cost of one applied op: ops equally likely, a geometric one half bilinear, half bicubic. */
function opMixMean(rows: OpRow[], key: 'js' | 'kernel'): number {
  const per = new Map<OpName, number[]>();
  for (const r of rows) per.set(r.op, [...(per.get(r.op) ?? []), r[key]]);
  let sum = 0;
  for (const v of per.values()) sum += v.reduce((a, b) => a + b, 0) / v.length;
  return sum / per.size;
}

function printOps(rows: OpRow[]): void {
  const kernels = augmentKernels() ? 'WebAssembly' : 'unavailable here (both columns are JavaScript)';
  console.log(`RandAugment per op, ${S}x${S} crop, magnitude 7, us per call, median of ${Math.max(ROUNDS, 5)} interleaved rounds; kernels: ${kernels}`);
  console.log(`${'op'.padEnd(22)} ${'filter'.padEnd(8)} ${pad('JavaScript', 10)} ${pad('kernels', 8)} ${pad('speed-up', 9)}`);
  for (const r of rows) {
    console.log(`${r.op.padEnd(22)} ${r.filter.padEnd(8)} ${pad(r.js.toFixed(0), 10)} ${pad(r.kernel.toFixed(0), 8)} ${pad((r.js / r.kernel).toFixed(2), 9)}`);
  }
  const mj = opMixMean(rows, 'js'), mk = opMixMean(rows, 'kernel');
  console.log(`${'mean per applied op'.padEnd(31)} ${pad(mj.toFixed(0), 10)} ${pad(mk.toFixed(0), 8)} ${pad((mj / mk).toFixed(2), 9)}   (rand-m7 n2 p0.5 applies 1 op per image on average)`);
}

function opsJson(rows: OpRow[]) {
  return {
    kernels: !!augmentKernels(),
    meanPerAppliedOp: { js: +opMixMean(rows, 'js').toFixed(1), kernel: +opMixMean(rows, 'kernel').toFixed(1) },
    perOp: rows.map((r) => ({ op: r.op, filter: r.filter, args: r.args.map((a) => +a.toFixed(4)), jsUs: +r.js.toFixed(1), kernelUs: +r.kernel.toFixed(1) })),
  };
}

const pad = (s: string | number, n: number) => String(s).padStart(n);
const jpegs = await makeJpegs(NIMG);
const opCrop = await trainImage(jpegs[0], trainOptions({ size: S, randAugment: null, decoder: 'exact' }), new Rng(1, 3, 0, 0));
if (values['ops-only']) {
  const ops = measureOps(opCrop, Math.max(ROUNDS, 5));
  printOps(ops);
  console.log(watch.describe());
  console.log(JSON.stringify({ bench: 'data', part: 'ops', size: S, ops: opsJson(ops), machine: watch.state() }));
  process.exit(0);
}
const fastStatus = fastDecoderStatus();
const basic: TrainTransformOptions = trainOptions({ size: S, randAugment: null, decoder: 'exact' });
const withRa: TrainTransformOptions = trainOptions({ size: S, randAugment: 'rand-m7-mstd0.5-inc1', decoder: 'exact' });
const ev = evalOptions({ size: S, cropPct: 0.95, decoder: 'exact' });
const basicFast: TrainTransformOptions = { ...basic, decoder: 'fast' };
const withRaFast: TrainTransformOptions = { ...withRa, decoder: 'fast' };
const evFast = { ...ev, decoder: 'fast' as const };
// What 'fast' rows really ran on: libjpeg-turbo, or sharp when the binding is unavailable.
const fastName = fastStatus.available ? 'fast' : 'fast (binding unavailable: sharp)';
const crops = await Promise.all(jpegs.map((j, k) => trainImage(j, basic, new Rng(1, 3, 0, k))));
const randAugment = new RandAugment('rand-m7-mstd0.5-inc1', { fill: fillFromMean(withRa.mean), resampleChoices: ['bilinear', 'bicubic'] });
const rows = await measureAll([
  { name: 'train-basic', decoder: 'exact', pil: 'train-basic', one: (j, k) => trainSample(j, basic, new Rng(1, 2, 0, k)) },
  { name: 'train-basic fast', decoder: fastName, pil: 'train-basic', one: (j, k) => trainSample(j, basicFast, new Rng(1, 2, 0, k)) },
  { name: 'train-ra', decoder: 'exact', pil: 'train-ra', one: (j, k) => trainSample(j, withRa, new Rng(1, 2, 0, k)) },
  { name: 'train-ra fast', decoder: fastName, pil: 'train-ra', one: (j, k) => trainSample(j, withRaFast, new Rng(1, 2, 0, k)) },
  // The same with RandAugment's WebAssembly kernels switched off: the A/B of augment-simd.ts.
  { name: 'train-ra js', decoder: 'exact', pil: 'train-ra', one: (j, k) => withoutKernels(() => trainSample(j, withRa, new Rng(1, 2, 0, k))) },
  { name: 'train-ra fast js', decoder: fastName, pil: 'train-ra', one: (j, k) => withoutKernels(() => trainSample(j, withRaFast, new Rng(1, 2, 0, k))) },
  { name: 'eval', decoder: 'exact', pil: 'eval', one: (j) => evalSample(j, ev) },
  { name: 'eval fast', decoder: fastName, pil: 'eval', one: (j) => evalSample(j, evFast) },
  { name: 'decode-only', decoder: 'exact', one: (j) => sharp(j).raw().toBuffer() },
  // The fast decode alone, into its reused per-thread buffer (as the transforms use it).
  { name: 'decode-only fast', decoder: fastName, one: async (j) => decodeFast(j) ?? sharp(j).raw().toBuffer() },
  // Two in flight: the decode (libuv thread) overlaps the pixel work (main thread).
  { name: 'train-ra x2', decoder: 'exact', one: (j, k) => trainSample(j, withRa, new Rng(1, 2, 0, k)), inFlight: 2 },
  {
    name: 'randaug-only',
    decoder: '-',
    one: async (_j, k) => {
      const c = crops[k % crops.length];
      return randAugment.apply({ width: c.width, height: c.height, data: c.data.slice() }, new Rng(1, 2, 0, k), { inPlace: true });
    },
  },
  {
    name: 'randaug-only js',
    decoder: '-',
    one: (_j, k) => withoutKernels(async () => {
      const c = crops[k % crops.length];
      return randAugment.apply({ width: c.width, height: c.height, data: c.data.slice() }, new Rng(1, 2, 0, k), { inPlace: true });
    }),
  },
], jpegs);
// References from issue 3, measured on the machine, one core: PIL 9.4 + torchvision,
// and a naive sharp pipeline (several sharp calls per image).
const PIL: Record<string, number> = { 'train-basic': 363, 'train-ra': 320, eval: 293 };
const NAIVE_SHARP: Record<string, number> = { 'train-basic': 233, 'train-ra': 122, eval: 257 };
const prepare = await prepareRate(jpegs);

/**
 * Engineer D's prepare() over an ImageNet-layout folder of these JPEGs (one image at a
 * time), when src/data/prepare.ts exists; otherwise the reason it was not measured.
 */
async function prepareRate(images: Uint8Array[]): Promise<{ perSecond: number; perCpuSecond: number } | string> {
  type PrepareFn = (o: { dataDir: string; outDir: string; concurrency?: number; splits?: string[] }) => Promise<{ report: { run: { filesPerSecond: number; filesProcessed: number } } }>;
  let fn: PrepareFn | undefined;
  try {
    fn = ((await import('../src/data/prepare.ts' as string)) as { prepare?: PrepareFn }).prepare;
  } catch (e) {
    return `src/data/prepare.ts not loadable (${(e as Error).message.split('\n')[0]})`;
  }
  if (typeof fn !== 'function') return 'src/data/prepare.ts exports no prepare()';
  const root = mkdtempSync(join(tmpdir(), 'bench-data-'));
  try {
    const per = Math.max(1, Math.ceil(N / 4));
    for (let c = 0; c < 4; c++) {
      const dir = join(root, 'in', 'train', `n0000000${c}`);
      mkdirSync(dir, { recursive: true });
      for (let k = 0; k < per; k++) writeFileSync(join(dir, `img_${k}.JPEG`), images[(c * per + k) % images.length]);
    }
    const c0 = process.cpuUsage();
    const r = await fn({ dataDir: join(root, 'in'), outDir: join(root, 'out'), concurrency: 1, splits: ['train'] });
    const cpu = process.cpuUsage(c0);
    return { perSecond: r.report.run.filesPerSecond, perCpuSecond: r.report.run.filesProcessed / ((cpu.user + cpu.system) / 1e6) };
  } catch (e) {
    return `prepare() failed: ${(e as Error).message.split('\n')[0]}`;
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

console.log(`data paths: ${rows[0].images} images each of 500x375 q90, S=${S}, one image in flight (x2: two), median of ${ROUNDS} interleaved rounds`);
// img/cpu-s (this process's CPU time, libvips threads included) is the per-core rate;
// img/s depends on how busy the machine is.
console.log(`fast decoder: ${fastStatus.detail}`);
console.log(`${'path'.padEnd(17)} ${'decoder'.padEnd(7)} ${pad('img/s', 8)} ${pad('img/cpu-s', 10)} ${pad('PIL 1 core', 11)} ${pad('naive sharp', 12)} ${pad('x PIL (cpu)', 12)}`);
for (const r of rows) {
  const ref = r.pil ? PIL[r.pil] : undefined;
  const naive = r.pil && r.decoder === 'exact' ? NAIVE_SHARP[r.pil] : undefined;
  console.log(`${r.path.padEnd(17)} ${r.decoder.slice(0, 7).padEnd(7)} ${pad(r.perSecond.toFixed(0), 8)} ${pad(r.perCpuSecond.toFixed(0), 10)} ${pad(ref ?? '-', 11)} ${pad(naive ?? '-', 12)} ${pad(ref ? (r.perCpuSecond / ref).toFixed(2) : '-', 12)}`);
}
if (typeof prepare === 'string') console.log(`prepare: not measured: ${prepare}`);
else console.log(`${'prepare'.padEnd(17)} ${'-'.padEnd(7)} ${pad(prepare.perSecond.toFixed(0), 8)} ${pad(prepare.perCpuSecond.toFixed(0), 10)} ${pad('-', 11)} ${pad('-', 12)} ${pad('-', 12)}`);
const ops = measureOps(opCrop, Math.max(ROUNDS, 5));
printOps(ops);
console.log(watch.describe());
console.log(JSON.stringify({
  bench: 'data', size: S, images: rows[0].images, rounds: ROUNDS, fastDecoder: fastStatus.detail,
  results: Object.fromEntries(rows.map((r) => {
    const ref = r.pil ? PIL[r.pil] : undefined;
    return [r.path, {
      perSecond: +r.perSecond.toFixed(1), perCpuSecond: +r.perCpuSecond.toFixed(1), pil: ref ?? null,
      ratioToPilPerCore: ref ? +(r.perCpuSecond / ref).toFixed(2) : null, decoder: r.decoder,
    }];
  })),
  prepare: typeof prepare === 'string' ? null : { perSecond: +prepare.perSecond.toFixed(1), perCpuSecond: +prepare.perCpuSecond.toFixed(1) },
  ops: opsJson(ops),
  machine: watch.state(),
}));
