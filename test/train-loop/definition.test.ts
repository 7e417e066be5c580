import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildGraph } from '../../src/pipeline/definition.ts';

const base = { devices: 2, deviceKind: 'cpu' as const, vars: {} };

test('the real graph: dataset -> train -> eval per recipe -> compare, embedded profile by default', () => {
  const g = buildGraph(base);
  for (const id of ['make-dataset:embedded', 'prepare:embedded', 'train:a1', 'eval:a1', 'train:a2', 'eval:a3', 'train:torchvision-90ep', 'compare']) {
    assert.ok(g.stages.has(id), id);
  }
  assert.deepEqual(g.defaultTargets, ['compare']);
  assert.deepEqual(g.stages.get('compare')!.upstream, ['train:a1', 'eval:a1', 'train:a2', 'eval:a2', 'train:a3', 'eval:a3']);
  const train = g.stages.get('train:a1')!;
  assert.deepEqual(train.upstream, ['prepare:embedded']);
  assert.equal(train.devices, 2);
  assert.equal(train.fingerprint, 'engine');
  const p = train.params as { recipe: { id: string; epochs: number }; profile: { id: string } };
  assert.equal(p.recipe.id, 'a1');
  assert.equal(p.recipe.epochs, 600, 'the recipe travels unscaled; the profile is applied by the stage');
  assert.equal(p.profile.id, 'embedded');
  assert.ok(g.order.indexOf('train:a1') < g.order.indexOf('eval:a1'));
});

test('the worker count is a train param (so in the key): BatchNorm statistics are per worker', () => {
  const workersOf = (devices: number) => (buildGraph({ ...base, devices }).stages.get('train:a1')!.params as { workers: number }).workers;
  assert.equal(workersOf(1), 1);
  assert.equal(workersOf(2), 2);
  assert.equal(workersOf(0), 1, 'no --devices: one worker');
  // evaluation runs on one device whatever --devices says, so its params do not change
  assert.deepEqual(buildGraph({ ...base, devices: 4 }).stages.get('eval:a1')!.params, buildGraph({ ...base, devices: 1 }).stages.get('eval:a1')!.params);
});

test('--set data=DIR switches to a real ImageNet folder and the unscaled profile', () => {
  const g = buildGraph({ ...base, vars: { data: '/data/imagenet' } });
  assert.ok(!g.stages.has('make-dataset:embedded'));
  const prep = g.stages.get('prepare:imagenet')!;
  assert.equal(Object.keys(prep.inputs).length, 1);
  assert.equal((g.stages.get('train:a1')!.params as { profile: { id: string } }).profile.id, 'imagenet');
  assert.equal((g.stages.get('train:a3')!.params as { profile: { id: string } }).profile.id, 'imagenet');
  // An explicit profile wins.
  const e = buildGraph({ ...base, profile: 'embedded', vars: { data: '/data/imagenet' } });
  assert.equal((e.stages.get('train:a1')!.params as { profile: { id: string } }).profile.id, 'embedded');
});

test("prepare:imagenet reads EXIF-oriented files as PIL/timm do by default; --set exif / max-side switch it", () => {
  const prep = (vars: Record<string, string>) => buildGraph({ ...base, vars: { data: '/data/imagenet', ...vars } }).stages.get('prepare:imagenet')!.params;
  assert.deepEqual(prep({}), { maxSide: null, exifOrientation: 'ignore' });
  assert.deepEqual(prep({ exif: 'apply', 'max-side': '500' }), { maxSide: 500, exifOrientation: 'apply' });
  assert.throws(() => prep({ exif: 'rotate' }), /--set exif=rotate: expected one of ignore, apply/);
  assert.throws(() => prep({ 'max-side': '8' }), /--set max-side=8: expected a whole number of pixels >= 16/);
});

test('bad switches are named', () => {
  assert.throws(() => buildGraph({ ...base, profile: 'huge' }), /unknown profile 'huge'/);
  assert.throws(() => buildGraph({ ...base, vars: { backend: 'gpu' } }), /backend=gpu: expected one of auto, tensorflow, wasm, cpu/);
});

test("--set decoder picks the training stages' JPEG decoder ('fast' by default); eval params do not change", () => {
  const decoderOf = (g: ReturnType<typeof buildGraph>, id: string) => (g.stages.get(id)!.params as { decoder?: string }).decoder;
  const g = buildGraph(base);
  assert.equal(decoderOf(g, 'train:a1'), 'fast');
  const exact = buildGraph({ ...base, vars: { decoder: 'exact' } });
  assert.equal(decoderOf(exact, 'train:a1'), 'exact');
  assert.equal(decoderOf(exact, 'train:a3'), 'exact');
  // evaluation always decodes exactly, so its params (and key) do not depend on the switch
  assert.deepEqual(exact.stages.get('eval:a1')!.params, g.stages.get('eval:a1')!.params);
  assert.throws(() => buildGraph({ ...base, vars: { decoder: 'turbo' } }), /decoder=turbo: expected one of fast, exact/);
});
