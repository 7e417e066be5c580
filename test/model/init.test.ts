// timm's ResNet init, checked by statistics with tolerances from sampling theory, and by the
// deterministic parts exactly (BN identity, zero-init of each block's last BN gamma).
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { createResNet } from '../../src/model/index.ts';
import { initialValue } from '../../src/model/init.ts';
import { resnetPlan, resnetStateSpec } from '../../src/model/resnet-archs.ts';
import { useBackend } from './helpers.ts';

before(() => useBackend('cpu'));

function moments(a: ArrayLike<number>) {
  let m = 0;
  for (let i = 0; i < a.length; i++) m += a[i];
  m /= a.length;
  let v = 0;
  for (let i = 0; i < a.length; i++) v += (a[i] - m) ** 2;
  return { mean: m, std: Math.sqrt(v / a.length) };
}

test('conv weights ~ N(0, 2/fan_out), fan_out = out*kh*kw', () => {
  const spec = resnetStateSpec(resnetPlan('resnet18', 10));
  const ctx = { seed: 3, zeroGammaBns: new Set<string>(), mode: 'random' as const, fcFanIn: 512 };
  // layer4.0.conv2: 512x512x3x3 (2.4M draws); conv1: 64x3x7x7 (9408 draws).
  for (const name of ['layer4.0.conv2.weight', 'conv1.weight', 'layer2.0.downsample.0.weight']) {
    const i = spec.findIndex((e) => e.name === name);
    const e = spec[i];
    const w = initialValue(e, i, ctx);
    const [o, , kh, kw] = e.timmShape;
    const want = Math.sqrt(2 / (o * kh * kw));
    const { mean, std } = moments(w);
    // Sample std of n normals has relative s.e. 1/sqrt(2n); allow 5 s.e. Mean s.e. is std/sqrt(n).
    const n = w.length;
    assert.ok(Math.abs(std / want - 1) < 5 / Math.sqrt(2 * n), `${name}: std ${std} vs ${want}`);
    assert.ok(Math.abs(mean) < 5 * want / Math.sqrt(n), `${name}: mean ${mean}`);
  }
});

test('fc weight and bias ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in)) with fan_in = in-features', () => {
  const spec = resnetStateSpec(resnetPlan('resnet_tiny', 100));
  const ctx = { seed: 5, zeroGammaBns: new Set<string>(), mode: 'random' as const, fcFanIn: 256 };
  const bound = 1 / Math.sqrt(256);
  for (const name of ['fc.weight', 'fc.bias']) {
    const i = spec.findIndex((e) => e.name === name);
    const v = initialValue(spec[i], i, ctx);
    let lo = Infinity, hi = -Infinity;
    for (const x of v) { lo = Math.min(lo, x); hi = Math.max(hi, x); }
    assert.ok(lo >= -bound && hi <= bound, `${name} within bounds`);
    if (name === 'fc.weight') {
      // 25,600 draws: std of U(-b, b) is b/sqrt(3); 5 s.e. relative = 5*sqrt(0.8/n)/2.
      const { std } = moments(v);
      assert.ok(Math.abs(std / (bound / Math.sqrt(3)) - 1) < 5 * Math.sqrt(0.8 / v.length) / 2, `std ${std}`);
      assert.ok(hi > 0.99 * bound && lo < -0.99 * bound, 'fills the whole range');
    }
  }
});

test('BN starts at identity; each block\'s last BN gamma is zero (not the shortcut BN); draws depend only on seed', () => {
  const m = createResNet('resnet_tiny', { numClasses: 10, seed: 7 });
  const m2 = createResNet('resnet_tiny', { numClasses: 10, seed: 7 });
  const m3 = createResNet('resnet_tiny', { numClasses: 10, seed: 8 });
  const m4 = createResNet('resnet_tiny', { numClasses: 10, seed: 7, zeroInitLast: false });
  try {
    for (const v of m.variables) {
      const d = Array.from(v.variable.dataSync());
      if (v.role === 'bn_weight') {
        const last = /^layer\d\.\d+\.bn3\.weight$/.test(v.name);
        assert.ok(d.every((x) => x === (last ? 0 : 1)), `${v.name}`);
        assert.ok(m4.variable(v.name).variable.dataSync().every((x) => x === 1), `${v.name} without zeroInitLast`);
      }
      if (v.role === 'bn_bias' || v.role === 'bn_running_mean' || v.role === 'bn_num_batches_tracked') assert.ok(d.every((x) => x === 0), v.name);
      if (v.role === 'bn_running_var') assert.ok(d.every((x) => x === 1), v.name);
      const same = m2.variable(v.name).variable.dataSync();
      assert.deepEqual(Array.from(same), d, `${v.name}: same seed, same values`);
      if (v.role === 'conv_weight' || v.role === 'fc_weight') {
        assert.notDeepEqual(Array.from(m3.variable(v.name).variable.dataSync()), d, `${v.name}: other seed`);
      }
    }
    assert.ok(m.variable('layer1.0.downsample.1.weight').variable.dataSync().every((x) => x === 1));
  } finally {
    for (const x of [m, m2, m3, m4]) x.dispose();
  }
});

test("init 'none' draws nothing: weights zero, BN at identity", () => {
  const m = createResNet('resnet_tiny_basic', { numClasses: 3, init: 'none' });
  try {
    assert.ok(m.variable('conv1.weight').variable.dataSync().every((x) => x === 0));
    assert.ok(m.variable('layer1.0.bn2.running_var').variable.dataSync().every((x) => x === 1));
    // BasicBlock: the last BN of the branch is bn2.
    assert.ok(m.variable('layer1.0.bn2.weight').variable.dataSync().every((x) => x === 0));
    assert.ok(m.variable('layer1.0.bn1.weight').variable.dataSync().every((x) => x === 1));
  } finally {
    m.dispose();
  }
});
