// Optimizers against float64 references written here from the spec/PyTorch formulas (the
// lamb goldens additionally run in the conformance test), state export/import for
// checkpoints, and timm's parameter groups on the real ResNet-50 parameter list.
// Tolerance: a few steps of float32 arithmetic vs float64 stay within ~1e-6 relative of
// the parameter values; 2e-6 relative + 1e-7 absolute.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { Rng } from '../../src/util/rng.ts';
import { createOptimizer, groupParams, Lamb, type NamedParam, type Optimizer } from '../../src/train/optimizer.ts';
import { paramGroups, isDecayExempt } from '../../src/train/param-groups.ts';
import { a1, getRecipe } from '../../recipes/index.ts';

before(async () => {
  await tf.setBackend('cpu');
});

const TOL = { rtol: 2e-6, atol: 1e-7 };
function assertClose(got: ArrayLike<number>, want: ArrayLike<number>, what: string) {
  assert.equal(got.length, want.length, `${what}: length`);
  for (let i = 0; i < want.length; i++) {
    assert.ok(Math.abs(got[i] - want[i]) <= TOL.atol + TOL.rtol * Math.abs(want[i]), `${what}[${i}]: got ${got[i]}, want ${want[i]}`);
  }
}

/** A toy model: conv weight, BN gamma/beta, fc weight/bias (names as timm's). */
const SHAPES: Record<string, number[]> = { 'conv.weight': [3, 3, 2, 4], 'bn.weight': [4], 'bn.bias': [4], 'fc.weight': [4, 5], 'fc.bias': [5] };

function makeParams(seed: number, zeroName?: string): { params: NamedParam[]; init: Record<string, Float64Array> } {
  const rng = new Rng(seed, 10);
  const init: Record<string, Float64Array> = {};
  const params = Object.entries(SHAPES).map(([name, shape]) => {
    const n = shape.reduce((a, b) => a * b, 1);
    const data = Float32Array.from({ length: n }, () => (name === zeroName ? 0 : rng.gauss(0, 0.5)));
    init[name] = Float64Array.from(data);
    return { name, variable: tf.variable(tf.tensor(data, shape), true, `opt_test_${seed}_${name}_${Math.random()}`) };
  });
  return { params, init };
}

function makeGrads(seed: number, step: number, scale: number): Record<string, Float32Array> {
  const rng = new Rng(seed, 11, step);
  return Object.fromEntries(Object.entries(SHAPES).map(([name, shape]) => [name, Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.gauss(0, scale))]));
}

function runSteps(opt: Optimizer, params: NamedParam[], seed: number, lrs: number[], scale: number) {
  lrs.forEach((lr, k) => {
    const g = makeGrads(seed, k, scale);
    const grads = Object.fromEntries(params.map((p) => [p.name, tf.tensor(g[p.name], p.variable.shape)]));
    opt.step(grads, lr);
    tf.dispose(Object.values(grads));
  });
}

const norm = (a: ArrayLike<number>) => Math.sqrt(Array.from(a).reduce((s, v) => s + v * v, 0));
const noDecay = (name: string) => isDecayExempt(name, SHAPES[name]);

/** Spec 2.9 in float64. */
function lambRef(init: Record<string, Float64Array>, seed: number, lrs: number[], scale: number, wd: number) {
  const p = Object.fromEntries(Object.entries(init).map(([k, v]) => [k, Float64Array.from(v)]));
  const m = Object.fromEntries(Object.entries(init).map(([k, v]) => [k, new Float64Array(v.length)]));
  const v2 = Object.fromEntries(Object.entries(init).map(([k, v]) => [k, new Float64Array(v.length)]));
  const [b1, b2, eps] = [0.9, 0.999, 1e-6];
  lrs.forEach((lr, k) => {
    const g = makeGrads(seed, k, scale);
    const gn = Math.sqrt(Object.values(g).reduce((s, a) => s + a.reduce((t, x) => t + x * x, 0), 0));
    const div = Math.max(gn / 1.0, 1);
    const t = k + 1;
    for (const name of Object.keys(p)) {
      const u = new Float64Array(p[name].length);
      for (let i = 0; i < u.length; i++) {
        const gi = g[name][i] / div;
        m[name][i] = b1 * m[name][i] + (1 - b1) * gi;
        v2[name][i] = b2 * v2[name][i] + (1 - b2) * gi * gi;
        u[i] = m[name][i] / (1 - b1 ** t) / (Math.sqrt(v2[name][i]) / Math.sqrt(1 - b2 ** t) + eps);
      }
      const decay = noDecay(name) ? 0 : wd;
      let trust = 1;
      if (decay !== 0) {
        for (let i = 0; i < u.length; i++) u[i] += decay * p[name][i];
        const w = norm(p[name]), n = norm(u);
        trust = w > 0 && n > 0 ? w / n : 1;
      }
      for (let i = 0; i < u.length; i++) p[name][i] -= lr * trust * u[i];
    }
  });
  return p;
}

test('LAMB matches the float64 spec reference (clip binding and not, a zero weight, varying LR)', () => {
  for (const [scale, zero] of [[0.05, undefined], [2, undefined], [0.5, 'fc.weight']] as const) {
    const { params, init } = makeParams(1, zero);
    const opt = createOptimizer(a1.optimizer, params);
    assert.ok(opt instanceof Lamb);
    const lrs = [1e-4, 1e-3, 5e-3, 4e-3];
    runSteps(opt, params, 1, lrs, scale);
    const ref = lambRef(init, 1, lrs, scale, a1.optimizer.weightDecay);
    for (const p of params) assertClose(p.variable.dataSync(), ref[p.name], `lamb scale=${scale} ${p.name}`);
    opt.dispose();
    params.forEach((p) => p.variable.dispose());
  }
});

test('LAMB state export/import: a restored optimizer continues bit-identically', () => {
  const A = makeParams(2);
  const B = makeParams(2);
  const optA = new Lamb(groupParams(A.params, 0.02, '1d-and-bias'));
  runSteps(optA, A.params, 2, [1e-3, 2e-3], 1);
  // B gets A's weights and optimizer state, then both take the same third step.
  A.params.forEach((p, i) => B.params[i].variable.assign(p.variable));
  const optB = new Lamb(groupParams(B.params, 0.02, '1d-and-bias'));
  const state = optA.getState();
  assert.deepEqual(state.groupSteps, [2, 2]);
  assert.ok(state.slots['conv.weight'].exp_avg instanceof Float32Array);
  optB.setState(state);
  const third = (opt: Optimizer, ps: NamedParam[]) => {
    const g = makeGrads(2, 9, 1);
    const grads = Object.fromEntries(ps.map((p) => [p.name, tf.tensor(g[p.name], p.variable.shape)]));
    opt.step(grads, 3e-3);
    tf.dispose(Object.values(grads));
  };
  third(optA, A.params);
  third(optB, B.params);
  A.params.forEach((p, i) => assert.deepEqual(B.params[i].variable.dataSync(), p.variable.dataSync(), p.name));
  assert.deepEqual(optB.getState().groupSteps, [3, 3]);
  // Bad states are refused with the reason.
  assert.throws(() => optB.setState({ ...state, kind: 'sgd' }), /state of a 'sgd' optimizer/);
  assert.throws(() => optB.setState({ ...state, slots: { nope: {} } }), /unknown parameter 'nope'/);
  assert.throws(() => optB.setState({ ...state, slots: { 'bn.bias': { exp_avg: new Float32Array(3) } } }), /exp_avg of 'bn.bias' needs 4 float32 values, got 3/);
  assert.throws(() => optB.step({}, 1e-3), /no gradient for parameter/);
});

/** PyTorch SGD in float64: d = g + wd p; buf = d (first) or mu buf + d; nesterov d + mu buf. */
function sgdRef(init: Record<string, Float64Array>, seed: number, lrs: number[], wd: number, mu: number, nesterov: boolean, exemptNoDecay: boolean) {
  const p = Object.fromEntries(Object.entries(init).map(([k, v]) => [k, Float64Array.from(v)]));
  const buf: Record<string, Float64Array> = {};
  lrs.forEach((lr, k) => {
    const g = makeGrads(seed, k, 1);
    for (const name of Object.keys(p)) {
      const decay = exemptNoDecay && noDecay(name) ? 0 : wd;
      const d = Float64Array.from(g[name], (gi, i) => gi + decay * p[name][i]);
      buf[name] = k === 0 ? Float64Array.from(d) : Float64Array.from(d, (di, i) => mu * buf[name][i] + di);
      for (let i = 0; i < d.length; i++) p[name][i] -= lr * (nesterov ? d[i] + mu * buf[name][i] : buf[name][i]);
    }
  });
  return p;
}

test('SGD (heavy-ball and Nesterov) matches a float64 PyTorch-semantics reference', () => {
  const original = getRecipe('resnet-original-90ep');
  assert.equal(original.optimizer.name, 'sgd');
  for (const nesterov of [false, true]) {
    const { params, init } = makeParams(3);
    const settings = { ...original.optimizer, nesterov } as typeof original.optimizer;
    const opt = createOptimizer(settings, params);
    assert.equal(opt.groups.length, 1, "exempt 'none': one group, decay on everything");
    const lrs = [0.1, 0.1, 0.01];
    runSteps(opt, params, 3, lrs, 1);
    const ref = sgdRef(init, 3, lrs, 1e-4, 0.9, nesterov, false);
    for (const p of params) assertClose(p.variable.dataSync(), ref[p.name], `sgd nesterov=${nesterov} ${p.name}`);
    assert.deepEqual(Object.keys(opt.getState().slots['fc.bias']), ['momentum_buffer']);
    opt.dispose();
  }
});

/** PyTorch AdamW in float64. */
function adamwRef(init: Record<string, Float64Array>, seed: number, lrs: number[], wd: number) {
  const p = Object.fromEntries(Object.entries(init).map(([k, v]) => [k, Float64Array.from(v)]));
  const m = Object.fromEntries(Object.entries(init).map(([k, v]) => [k, new Float64Array(v.length)]));
  const v2 = Object.fromEntries(Object.entries(init).map(([k, v]) => [k, new Float64Array(v.length)]));
  const [b1, b2, eps] = [0.9, 0.999, 1e-8];
  lrs.forEach((lr, k) => {
    const g = makeGrads(seed, k, 1);
    const t = k + 1;
    for (const name of Object.keys(p)) {
      const decay = noDecay(name) ? 0 : wd;
      for (let i = 0; i < p[name].length; i++) {
        p[name][i] *= 1 - lr * decay;
        m[name][i] = b1 * m[name][i] + (1 - b1) * g[name][i];
        v2[name][i] = b2 * v2[name][i] + (1 - b2) * g[name][i] ** 2;
        p[name][i] -= (lr / (1 - b1 ** t)) * (m[name][i] / (Math.sqrt(v2[name][i]) / Math.sqrt(1 - b2 ** t) + eps));
      }
    }
  });
  return p;
}

test('AdamW matches a float64 PyTorch-semantics reference (decoupled decay, no decay for 1-D/bias)', () => {
  const { params, init } = makeParams(4);
  const opt = createOptimizer({ name: 'adamw', weightDecay: 0.05, weightDecayExempt: '1d-and-bias', betas: [0.9, 0.999], eps: 1e-8 }, params);
  const lrs = [1e-3, 5e-4, 5e-4];
  runSteps(opt, params, 4, lrs, 1);
  const ref = adamwRef(init, 4, lrs, 0.05);
  for (const p of params) assertClose(p.variable.dataSync(), ref[p.name], `adamw ${p.name}`);
  opt.dispose();
});

/** timm ResNet-50 trainable parameter names and shapes (PyTorch layout), built from the architecture. */
function resnet50Params(): { name: string; shape: number[] }[] {
  const out: { name: string; shape: number[] }[] = [];
  const bn = (prefix: string, c: number) => out.push({ name: `${prefix}.weight`, shape: [c] }, { name: `${prefix}.bias`, shape: [c] });
  out.push({ name: 'conv1.weight', shape: [64, 3, 7, 7] });
  bn('bn1', 64);
  let inC = 64;
  [[64, 3], [128, 4], [256, 6], [512, 3]].forEach(([planes, blocks], s) => {
    for (let b = 0; b < blocks; b++) {
      const pre = `layer${s + 1}.${b}`;
      out.push({ name: `${pre}.conv1.weight`, shape: [planes, inC, 1, 1] });
      bn(`${pre}.bn1`, planes);
      out.push({ name: `${pre}.conv2.weight`, shape: [planes, planes, 3, 3] });
      bn(`${pre}.bn2`, planes);
      out.push({ name: `${pre}.conv3.weight`, shape: [planes * 4, planes, 1, 1] });
      bn(`${pre}.bn3`, planes * 4);
      if (b === 0) {
        out.push({ name: `${pre}.downsample.0.weight`, shape: [planes * 4, inC, 1, 1] });
        bn(`${pre}.downsample.1`, planes * 4);
      }
      inC = planes * 4;
    }
  });
  out.push({ name: 'fc.weight', shape: [1000, 2048] }, { name: 'fc.bias', shape: [1000] });
  return out;
}

test('param groups on ResNet-50 match the spec: 54 decayed tensors / 25,502,912 values, 107 exempt / 54,120', () => {
  const groups = paramGroups(resnet50Params(), 0.01);
  const size = (ps: { shape: number[] }[]) => ps.reduce((a, p) => a + p.shape.reduce((x, y) => x * y, 1), 0);
  assert.deepEqual(groups.map((g) => [g.name, g.weightDecay, g.params.length, size(g.params)]), [
    ['no_decay', 0, 107, 54120],
    ['decay', 0.01, 54, 25502912],
  ]);
  assert.equal(size(groups[0].params) + size(groups[1].params), 25557032);
  // A 2-D parameter named *.bias is still exempt; frozen entries are left out; duplicates refused.
  assert.ok(isDecayExempt('head.bias', [3, 3]));
  assert.equal(paramGroups([{ name: 'x.running_mean', shape: [4], trainable: false }], 0.1)[0].params.length, 0);
  // Weight decay 0: timm does not split (one group), nor does exempt 'none'.
  assert.deepEqual(paramGroups(resnet50Params(), 0).map((g) => [g.name, g.params.length]), [['all', 161]]);
  assert.deepEqual(paramGroups(resnet50Params(), 1e-4, 'none').map((g) => [g.name, g.weightDecay, g.params.length]), [['all', 1e-4, 161]]);
  assert.throws(() => paramGroups([{ name: 'a', shape: [1] }, { name: 'a', shape: [1] }], 0.1), /'a' appears twice/);
});
