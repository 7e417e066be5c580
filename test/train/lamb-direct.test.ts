// The direct-storage LAMB (src/engine/lamb, used by Lamb on wasm and cpu) against an
// independent float64 reference of spec §2.9 written here, against the tfjs-ops implementation,
// and for the storage rules it relies on: moments updated in place (same buffers every step,
// no tensor made per step), nothing else that shares a parameter's or the state's buffer
// changes. The timm lamb goldens run through the same code in the conformance test.
//
// Tolerances:
// - vs the float64 reference: 2e-6 relative + 1e-7 absolute after 4 steps. Every stored value
//   (m, v, u, p) is rounded to float32 once per step (2^-24 relative ~ 6e-8); with the trust
//   ratio and the bias corrections multiplying, a few steps stay well inside ~1e-6 relative of
//   each parameter. The same bound the older optimizer tests use.
// - direct vs ops: the same 2e-6 + 1e-7; both are within ~1e-6 of the reference.
// A wrong ingredient (eps inside the sqrt, decay after the trust ratio, clip not global, a
// group's counter shared) moves values by >= 1e-4 relative here; the clip binds in one case
// and not in the other, one parameter is all zeros (trust ratio 1), and the LR varies.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { initBackends, gaussian } from '../engine/backends.ts';
import { groupParams, type NamedParam } from '../../src/train/optimizer-base.ts';
import { Lamb } from '../../src/train/lamb.ts';
import { isDecayExempt } from '../../src/train/param-groups.ts';
import { applyUpdate, lambCoefficients, lambMomentsAndApply, sumOfSquares, trustRatio } from '../../src/engine/lamb/math.ts';

before(initBackends);

const BACKENDS = ['cpu', 'wasm'] as const;
const TOL = { rtol: 2e-6, atol: 1e-7 };
const WD = 0.02;
const LRS = [2e-3, 5e-3, 8e-3, 3e-3];
/** Shapes as the model keeps them (HWIO convs, [in, out] fc), names as timm's. */
const SHAPES: Record<string, number[]> = {
  'conv1.weight': [3, 3, 3, 8],
  'bn1.weight': [8],
  'bn1.bias': [8],
  'layer1.0.conv1.weight': [1, 1, 8, 16],
  'fc.weight': [16, 10],
  'fc.bias': [10],
};
const sizeOf = (s: number[]) => s.reduce((a, b) => a * b, 1);

function initial(seed: number, zeroName?: string): Record<string, Float32Array> {
  return Object.fromEntries(Object.entries(SHAPES).map(([name, shape], i) => [name, name === zeroName ? new Float32Array(sizeOf(shape)) : gaussian(shape, seed, i).map((x) => x * 0.3)]));
}

function gradsAt(seed: number, step: number, scale: number): Record<string, Float32Array> {
  return Object.fromEntries(Object.entries(SHAPES).map(([name, shape], i) => [name, gaussian(shape, seed + 1000 * (step + 1), i).map((x) => x * scale)]));
}

function makeParams(init: Record<string, Float32Array>, tag: string): NamedParam[] {
  return Object.entries(init).map(([name, data]) => ({ name, variable: tf.variable(tf.tensor(data, SHAPES[name]), true, `lamb_direct_${tag}_${name}_${Math.random()}`) }));
}

function runSteps(opt: Lamb, params: NamedParam[], seed: number, scale: number, flatGrads = false): void {
  LRS.forEach((lr, k) => {
    const g = gradsAt(seed, k, scale);
    // Flat gradients check the reshape to the parameter's shape.
    const grads = Object.fromEntries(params.map((p) => [p.name, tf.tensor(g[p.name], flatGrads ? [p.variable.size] : p.variable.shape)]));
    opt.step(grads, lr);
    tf.dispose(Object.values(grads));
  });
}

/** Spec §2.9 in float64, with its own grouping rule (timm's: 1-D and *.bias undecayed). */
function reference(init: Record<string, Float32Array>, seed: number, scale: number) {
  const p = Object.fromEntries(Object.entries(init).map(([k, v]) => [k, Float64Array.from(v)]));
  const m = Object.fromEntries(Object.entries(init).map(([k, v]) => [k, new Float64Array(v.length)]));
  const v = Object.fromEntries(Object.entries(init).map(([k, x]) => [k, new Float64Array(x.length)]));
  const [b1, b2, eps] = [0.9, 0.999, 1e-6];
  LRS.forEach((lr, k) => {
    const g = gradsAt(seed, k, scale);
    let sq = 0;
    for (const a of Object.values(g)) for (const x of a) sq += x * x;
    const clip = Math.max(Math.sqrt(sq) / 1.0, 1);
    const t = k + 1;
    for (const name of Object.keys(p)) {
      const u = new Float64Array(p[name].length);
      const wd = isDecayExempt(name, SHAPES[name]) ? 0 : WD;
      for (let i = 0; i < u.length; i++) {
        const gi = g[name][i] / clip;
        m[name][i] = b1 * m[name][i] + (1 - b1) * gi;
        v[name][i] = b2 * v[name][i] + (1 - b2) * gi * gi;
        u[i] = m[name][i] / (1 - b1 ** t) / (Math.sqrt(v[name][i]) / Math.sqrt(1 - b2 ** t) + eps) + wd * p[name][i];
      }
      let trust = 1;
      if (wd !== 0) {
        const pn = Math.hypot(...p[name]), un = Math.hypot(...u);
        trust = pn > 0 && un > 0 ? pn / un : 1;
      }
      for (let i = 0; i < u.length; i++) p[name][i] -= lr * trust * u[i];
    }
  });
  return { p, m, v };
}

function assertClose(got: ArrayLike<number>, want: ArrayLike<number>, what: string): void {
  assert.equal(got.length, want.length, `${what}: length`);
  for (let i = 0; i < want.length; i++) {
    assert.ok(Math.abs(got[i] - want[i]) <= TOL.atol + TOL.rtol * Math.abs(want[i]), `${what}[${i}]: got ${got[i]}, want ${want[i]}`);
  }
}

for (const backend of BACKENDS) {
  test(`${backend}: direct LAMB matches the float64 reference (clip binding or not, a zero weight, flat gradients)`, async () => {
    await tf.setBackend(backend);
    for (const [scale, zero, flat] of [[0.05, undefined, false], [2, 'layer1.0.conv1.weight', true]] as const) {
      const init = initial(7, zero);
      const params = makeParams(init, backend);
      const opt = new Lamb(groupParams(params, WD, '1d-and-bias'));
      const before = tf.memory().numTensors;
      runSteps(opt, params, 7, scale, flat);
      assert.equal(opt.lastStepPath, 'direct', 'the direct path must have run');
      assert.equal(tf.memory().numTensors, before + 2 * params.length, 'only the two moments per parameter stay');
      const ref = reference(init, 7, scale);
      const state = opt.getState();
      assert.deepEqual(state.groupSteps, [LRS.length, LRS.length]);
      for (const p of params) {
        assertClose(p.variable.dataSync(), ref.p[p.name], `${backend} scale=${scale} ${p.name} params`);
        assertClose(state.slots[p.name].exp_avg, ref.m[p.name], `${backend} ${p.name} exp_avg`);
        assertClose(state.slots[p.name].exp_avg_sq, ref.v[p.name], `${backend} ${p.name} exp_avg_sq`);
      }
      opt.dispose();
      params.forEach((p) => p.variable.dispose());
    }
  });

  test(`${backend}: direct and tfjs-ops LAMB agree, step info included`, async () => {
    await tf.setBackend(backend);
    const init = initial(11);
    const runs = (['auto', 'ops'] as const).map((path) => {
      const params = makeParams(init, `${backend}_${path}`);
      const opt = new Lamb(groupParams(params, WD, '1d-and-bias'), { path });
      const infos = LRS.map((lr, k) => {
        const g = gradsAt(11, k, 1);
        const grads = Object.fromEntries(params.map((p) => [p.name, tf.tensor(g[p.name], p.variable.shape)]));
        const info = opt.step(grads, lr);
        tf.dispose(Object.values(grads));
        return info;
      });
      assert.equal(opt.lastStepPath, path === 'ops' ? 'ops' : 'direct');
      const out = { infos, values: params.map((p) => Float32Array.from(p.variable.dataSync() as Float32Array)) };
      opt.dispose();
      params.forEach((p) => p.variable.dispose());
      return out;
    });
    const [direct, ops] = runs;
    direct.infos.forEach((info, k) => {
      assert.ok(info.clipDivisor! > 1, 'the clip binds at this gradient scale');
      assert.ok(Math.abs(info.globalGradNorm! - ops.infos[k].globalGradNorm!) <= 1e-6 * ops.infos[k].globalGradNorm!, `step ${k + 1} global norm`);
      assert.ok(Math.abs(info.clipDivisor! - ops.infos[k].clipDivisor!) <= 1e-6 * ops.infos[k].clipDivisor!, `step ${k + 1} clip divisor`);
    });
    direct.values.forEach((v, i) => assertClose(v, ops.values[i], `${backend} direct vs ops, param ${i}`));
  });

  test(`${backend}: moments stay in place; tensors sharing a parameter's or the state's buffer are untouched`, async () => {
    await tf.setBackend(backend);
    const init = initial(13);
    // A parameter made from a tensor that is kept (tf.variable shares its buffer) ...
    const kept = tf.tensor(init['fc.weight'], SHAPES['fc.weight']);
    const params = makeParams(init, `${backend}_alias`);
    params.find((p) => p.name === 'fc.weight')!.variable.assign(kept);
    // ... and another variable assigned from a parameter (an EMA copy shares the buffer too).
    const conv = params.find((p) => p.name === 'conv1.weight')!;
    const ema = tf.variable(tf.zerosLike(conv.variable), false);
    ema.assign(conv.variable);
    const readBefore = conv.variable.dataSync(); // on cpu this may be the backing array itself
    const readCopy = Float32Array.from(readBefore as Float32Array);

    const opt = new Lamb(groupParams(params, WD, '1d-and-bias'));
    const other = new Lamb(groupParams(makeParams(init, `${backend}_other`), WD, '1d-and-bias'));
    runSteps(other, other.groups.flatMap((g) => g.params), 5, 1);
    const state = other.getState();
    const stateCopy = structuredClone(state);
    opt.setState(state);

    const slotIds = () => opt.groups.flatMap((g) => g.params.flatMap((p) => {
      const st = (opt as unknown as { slots: Map<string, Map<string, tf.Variable>> }).slots.get(p.name)!;
      return [st.get('exp_avg')!.dataId, st.get('exp_avg_sq')!.dataId];
    }));
    // The first step may make the restored state private once; from then on the same buffers.
    runSteps(opt, params, 17, 1);
    const ids = slotIds();
    const before = tf.memory().numTensors;
    runSteps(opt, params, 19, 1);
    assert.equal(opt.lastStepPath, 'direct');
    assert.deepEqual(slotIds(), ids, 'exp_avg / exp_avg_sq keep their buffers');
    assert.equal(tf.memory().numTensors, before, 'no tensor made per step is left');

    assert.deepEqual(kept.dataSync(), init['fc.weight'], 'the tensor a parameter was made from');
    assert.deepEqual(ema.dataSync(), init['conv1.weight'], 'a variable assigned from a parameter');
    assert.deepEqual(readBefore, readCopy, 'values read before the step');
    assert.deepEqual(state, stateCopy, 'the state object given to setState');
    assert.notDeepEqual(conv.variable.dataSync(), init['conv1.weight'], 'the parameter itself did move');

    opt.dispose();
    other.dispose();
    tf.dispose([kept, ema, ...params.map((p) => p.variable), ...other.groups.flatMap((g) => g.params.map((p) => p.variable))]);
  });
}

test('direct LAMB: bad gradients are refused with the parameter named', async () => {
  await tf.setBackend('wasm');
  const params = makeParams(initial(3), 'bad');
  const opt = new Lamb(groupParams(params, WD, '1d-and-bias'));
  const grads = Object.fromEntries(params.map((p) => [p.name, tf.zeros(p.variable.shape)]));
  assert.throws(() => opt.step({ ...grads, 'fc.bias': tf.zeros([3]) }, 1e-3), /gradient of 'fc.bias' has shape \[3\], parameter \[10\]/);
  const { 'bn1.bias': _, ...missing } = grads;
  assert.throws(() => opt.step(missing, 1e-3), /no gradient for parameter 'bn1.bias'/);
  assert.throws(() => opt.step(grads, Number.NaN), /lr NaN/);
  assert.throws(() => new Lamb([], { path: 'fast' as 'ops' }), /path must be 'auto' or 'ops'/);
  opt.dispose();
  tf.dispose([...Object.values(grads), ...params.map((p) => p.variable)]);
});

test('LAMB math kernels: float64 sums, the trust ratio rule, the fused pass refuses decay', () => {
  // Float64 accumulation: 2^24 + 1 + 1 ... is lost in float32, kept here.
  const x = new Float32Array(1003).fill(1);
  x[0] = 4096; // 4096^2 = 2^24
  assert.equal(sumOfSquares(x), 2 ** 24 + 1002);
  assert.equal(trustRatio({ paramSq: 0, updateSq: 4 }), 1);
  assert.equal(trustRatio({ paramSq: 9, updateSq: 0 }), 1);
  assert.equal(trustRatio({ paramSq: 9, updateSq: 4 }), 1.5);
  const p = Float32Array.of(1, 2, 3);
  const out = new Float32Array(3);
  applyUpdate(p, Float32Array.of(1, -1, 0.5), 0.5, out);
  assert.deepEqual(out, Float32Array.of(0.5, 2.5, 2.75));
  const k = lambCoefficients([0.9, 0.999], 1e-6, 1, 1, 0.01);
  assert.throws(() => lambMomentsAndApply(p, new Float32Array(3), new Float32Array(3), p, 1e-3, out, k), /only for weight decay 0/);
  assert.throws(() => lambCoefficients([0.9, 0.999], 1e-6, 0, 1, 0), /step must be an integer >= 1/);
  assert.throws(() => lambCoefficients([0.9, 0.999], 1e-6, 1, 0.5, 0), /clipDivisor must be >= 1/);
});
