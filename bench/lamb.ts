// One LAMB step over ResNet-50's parameter shapes (25.6 M values, timm's two groups, wd 0.02),
// per backend and implementation: 'direct' (loops over the backend's storage, the default on
// wasm/cpu) and 'ops' (tfjs ops, the fallback for other backends). Random weights and gradients;
// the clip binds (as it does in training). Median of --steps steps after --warmup.
//
//   npm run bench -- lamb [--backends wasm,cpu] [--paths direct,ops] [--steps 5] [--warmup 1]
//
// Prints a table, then one JSON line.
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '../src/engine/backend.ts';
import { groupParams, type NamedParam } from '../src/train/optimizer-base.ts';
import { Lamb } from '../src/train/lamb.ts';
import { Rng } from '../src/util/rng.ts';
import { MachineWatch } from './machine.ts';

const watch = new MachineWatch();

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}
const backends = arg('backends', 'wasm,cpu').split(',') as ('wasm' | 'cpu')[];
const paths = arg('paths', 'direct,ops').split(',');
const steps = Number(arg('steps', '5'));
const warmup = Number(arg('warmup', '1'));

/** timm ResNet-50 trainable parameters, NHWC/HWIO-like shapes with the same sizes. */
function resnet50Shapes(): [string, number[]][] {
  const out: [string, number[]][] = [];
  const bn = (prefix: string, c: number) => out.push([`${prefix}.weight`, [c]], [`${prefix}.bias`, [c]]);
  out.push(['conv1.weight', [7, 7, 3, 64]]);
  bn('bn1', 64);
  let inC = 64;
  [[64, 3], [128, 4], [256, 6], [512, 3]].forEach(([planes, blocks], s) => {
    for (let b = 0; b < blocks; b++) {
      const pre = `layer${s + 1}.${b}`;
      out.push([`${pre}.conv1.weight`, [1, 1, inC, planes]]);
      bn(`${pre}.bn1`, planes);
      out.push([`${pre}.conv2.weight`, [3, 3, planes, planes]]);
      bn(`${pre}.bn2`, planes);
      out.push([`${pre}.conv3.weight`, [1, 1, planes, planes * 4]]);
      bn(`${pre}.bn3`, planes * 4);
      if (b === 0) {
        out.push([`${pre}.downsample.0.weight`, [1, 1, inC, planes * 4]]);
        bn(`${pre}.downsample.1`, planes * 4);
      }
      inC = planes * 4;
    }
  });
  out.push(['fc.weight', [2048, 1000]], ['fc.bias', [1000]]);
  return out;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const rows: { backend: string; path: string; seconds: number; values: number; nsPerValue: number; leakedTensors: number }[] = [];

for (const backend of backends) {
  await selectBackend(backend, { log: () => {} });
  const shapes = resnet50Shapes();
  const rng = new Rng(0, 1);
  const fill = (n: number, s: number) => Float32Array.from({ length: n }, () => rng.gauss(0, s));
  const params: NamedParam[] = shapes.map(([name, shape]) => ({ name, variable: tf.variable(tf.tensor(fill(shape.reduce((a, b) => a * b, 1), 0.05), shape), true, `bench_lamb_${backend}_${name}`) }));
  const grads = Object.fromEntries(params.map((p) => [p.name, tf.tensor(fill(p.variable.size, 1e-3), p.variable.shape)]));
  const values = params.reduce((a, p) => a + p.variable.size, 0);
  for (const path of paths) {
    const opt = new Lamb(groupParams(params, 0.02, '1d-and-bias'), { path: path === 'ops' ? 'ops' : 'auto' });
    const times: number[] = [];
    const before = tf.memory().numTensors;
    for (let i = 0; i < warmup + steps; i++) {
      const t0 = performance.now();
      opt.step(grads, 0.005);
      params[0].variable.dataSync();
      if (i >= warmup) times.push((performance.now() - t0) / 1000);
    }
    if ((path === 'direct') !== (opt.lastStepPath === 'direct')) throw new Error(`bench lamb: asked for ${path}, ran ${opt.lastStepPath}`);
    const leakedTensors = tf.memory().numTensors - before - 2 * params.length; // the moments are expected
    opt.dispose();
    const seconds = median(times);
    rows.push({ backend, path, seconds, values, nsPerValue: (seconds * 1e9) / values, leakedTensors });
  }
  tf.dispose(Object.values(grads));
  params.forEach((p) => p.variable.dispose());
}

const header = ['backend', 'path', 'LAMB s/step', 'values', 'ns/value', 'leaked tensors'];
console.log(`| ${header.join(' | ')} |\n|${header.map(() => '---').join('|')}|`);
for (const r of rows) console.log(`| ${r.backend} | ${r.path} | ${r.seconds.toFixed(3)} | ${r.values} | ${r.nsPerValue.toFixed(2)} | ${r.leakedTensors} |`);
console.log(watch.describe());
console.log(JSON.stringify({ bench: 'lamb', steps, warmup, rows, machine: watch.state() }));
