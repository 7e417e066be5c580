// A1/A2/A3 checked field by field against the spec's Table 1 (rsb-recipes.md §1), plus the
// registry, hashing and derive behaviour. The table is transcribed below so the test runs
// without the shared spec folder; when that folder sits next to the repository (../shared),
// the transcription is itself checked against baselines.json.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { recipes, recipeHash, derive, deriveRecipe, getRecipe, totalEpochs, validateRecipe, a1, a2, a3, type Recipe } from '../../recipes/index.ts';

/** One row per Table 1 line: how to read it from a recipe, and the A1/A2/A3 values. */
const table: [row: string, get: (r: Recipe) => unknown, a1: unknown, a2: unknown, a3: unknown][] = [
  ['train resolution', (r) => r.train.resolution, 224, 224, 160],
  ['test resolution', (r) => r.eval.resolution, 224, 224, 224],
  ['epochs', (r) => r.epochs, 600, 300, 100],
  ['global batch size', (r) => r.globalBatch, 2048, 2048, 2048],
  ['optimizer', (r) => r.optimizer.name, 'lamb', 'lamb', 'lamb'],
  ['LAMB betas', (r) => (r.optimizer.name === 'lamb' ? r.optimizer.betas : null), [0.9, 0.999], [0.9, 0.999], [0.9, 0.999]],
  ['LAMB eps', (r) => (r.optimizer.name === 'lamb' ? r.optimizer.eps : null), 1e-6, 1e-6, 1e-6],
  ['LAMB internal clip', (r) => (r.optimizer.name === 'lamb' ? r.optimizer.maxGradNorm : null), 1, 1, 1],
  ['peak LR', (r) => r.optimizer.lr, 5e-3, 5e-3, 8e-3],
  ['LR schedule', (r) => r.schedule.kind, 'cosine', 'cosine', 'cosine'],
  ['LR stepped per', (r) => r.schedule.stepOn, 'epoch', 'epoch', 'epoch'],
  ['warmup epochs', (r) => r.schedule.warmupEpochs, 5, 5, 5],
  ['warmup start LR', (r) => r.schedule.warmupLr, 1e-4, 1e-4, 1e-4],
  ['min LR', (r) => (r.schedule.kind === 'cosine' ? r.schedule.minLr : null), 1e-6, 1e-6, 1e-6],
  // "10 or 0" [U]: we take the RSB-era default 10 (see a1.ts).
  ['cooldown epochs', (r) => r.schedule.cooldownEpochs, 10, 10, 10],
  ['weight decay', (r) => r.optimizer.weightDecay, 0.01, 0.02, 0.02],
  ['WD-exempt params', (r) => r.optimizer.weightDecayExempt, '1d-and-bias', '1d-and-bias', '1d-and-bias'],
  ['label smoothing', (r) => r.labelSmoothing, 0.1, 0, 0],
  ['dropout', (r) => r.model.dropRate, 0, 0, 0],
  ['stochastic depth', (r) => r.model.dropPathRate, 0.05, 0.05, 0],
  ['repeated augmentation', (r) => r.train.repeatedAugmentation, 3, 3, 1],
  ['gradient clipping (train script)', (r) => r.gradClip, null, null, null],
  ['horizontal flip', (r) => r.train.hflip, 0.5, 0.5, 0.5],
  ['RRC scale', (r) => r.train.rrcScale, [0.08, 1], [0.08, 1], [0.08, 1]],
  ['RRC ratio', (r) => r.train.rrcRatio, [3 / 4, 4 / 3], [3 / 4, 4 / 3], [3 / 4, 4 / 3]],
  ['train interpolation', (r) => r.train.interpolation, 'random', 'random', 'random'],
  ['RandAugment', (r) => r.train.randAugment, 'rand-m7-mstd0.5-inc1', 'rand-m7-mstd0.5-inc1', 'rand-m6-mstd0.5-inc1'],
  ['AutoAugment', (r) => r.train.autoAugment, false, false, false],
  ['mixup alpha', (r) => r.mix.mixupAlpha, 0.2, 0.1, 0.1],
  ['cutmix alpha', (r) => r.mix.cutmixAlpha, 1, 1, 1],
  ['mix probability', (r) => r.mix.prob, 1, 1, 1],
  ['mixup/cutmix switch', (r) => r.mix.switchProb, 0.5, 0.5, 0.5],
  ['mix mode', (r) => r.mix.mode, 'batch', 'batch', 'batch'],
  ['random erasing', (r) => r.train.randomErasing, 0, 0, 0],
  ['color jitter', (r) => r.train.colorJitter, null, null, null],
  ['PCA lighting', (r) => r.train.pcaLighting, false, false, false],
  ['EMA', (r) => r.ema, null, null, null],
  ['test crop ratio', (r) => r.eval.cropPct, 0.95, 0.95, 0.95],
  ['test interpolation', (r) => r.eval.interpolation, 'bicubic', 'bicubic', 'bicubic'],
  ['loss', (r) => r.loss.kind, 'bce', 'bce', 'bce'],
  ['BCE reduction', (r) => (r.loss.kind === 'bce' ? r.loss.reduction : null), 'mean', 'mean', 'mean'],
  ['BCE target threshold', (r) => (r.loss.kind === 'bce' ? r.loss.targetThreshold : null), 0.2, 0.2, 0.2],
  ['mixed precision', (r) => r.precision, 'amp-fp16', 'amp-fp16', 'amp-fp16'],
  ['BN across devices', (r) => r.batchNorm, { sync: false, distBn: 'reduce' }, { sync: false, distBn: 'reduce' }, { sync: false, distBn: 'reduce' }],
  ['seed', (r) => r.seed, 0, 0, 0],
  ['model', (r) => r.model.arch, 'resnet50', 'resnet50', 'resnet50'],
  ['zero-init last BN', (r) => r.model.zeroInitLastBn, true, true, true],
  ['classes', (r) => r.model.numClasses, 1000, 1000, 1000],
];

test('a1/a2/a3 match the spec Table 1 field by field', () => {
  const bad: string[] = [];
  for (const [row, get, ...want] of table) {
    [a1, a2, a3].forEach((r, i) => {
      try {
        assert.deepEqual(get(r), want[i]);
      } catch {
        bad.push(`${r.id} ${row}: got ${JSON.stringify(get(r))}, table says ${JSON.stringify(want[i])}`);
      }
    });
  }
  assert.deepEqual(bad, []);
});

test('the transcribed table agrees with baselines.json (when the shared spec is present)', (t) => {
  const file = fileURLToPath(new URL('../../../shared/spec/baselines.json', import.meta.url));
  if (!existsSync(file)) return t.skip('shared spec folder not next to the repository');
  const hp = JSON.parse(readFileSync(file, 'utf8')).hyperparameters as Record<string, Record<string, { value: unknown }>>;
  const map: Record<string, (r: Recipe) => unknown> = {
    train_res: (r) => r.train.resolution, test_res: (r) => r.eval.resolution, epochs: (r) => r.epochs,
    global_batch: (r) => r.globalBatch, lr: (r) => r.optimizer.lr, warmup_epochs: (r) => r.schedule.warmupEpochs,
    warmup_lr: (r) => r.schedule.warmupLr, min_lr: (r) => (r.schedule.kind === 'cosine' ? r.schedule.minLr : null),
    weight_decay: (r) => r.optimizer.weightDecay, label_smoothing: (r) => r.labelSmoothing, dropout: (r) => r.model.dropRate,
    drop_path_max: (r) => r.model.dropPathRate, hflip: (r) => r.train.hflip, randaugment: (r) => r.train.randAugment,
    mixup_alpha: (r) => r.mix.mixupAlpha, cutmix_alpha: (r) => r.mix.cutmixAlpha, mixup_prob: (r) => r.mix.prob,
    mixup_switch_prob: (r) => r.mix.switchProb, mixup_mode: (r) => r.mix.mode, random_erasing: (r) => r.train.randomErasing,
    test_crop_pct: (r) => r.eval.cropPct, test_interpolation: (r) => r.eval.interpolation,
    bce_target_thresh: (r) => (r.loss.kind === 'bce' ? r.loss.targetThreshold : null),
    // baselines.json writes "no repeated augmentation" as null; the recipe says 1 copy.
    repeated_aug: (r) => (r.train.repeatedAugmentation === 1 ? null : r.train.repeatedAugmentation),
  };
  const bad: string[] = [];
  let compared = 0;
  for (const r of [a1, a2, a3]) {
    for (const [key, get] of Object.entries(map)) {
      const entry = hp[r.id]?.[key];
      if (!entry || entry.value === undefined) continue;
      compared++;
      if (JSON.stringify(get(r)) !== JSON.stringify(entry.value)) bad.push(`${r.id}.${key}: recipe ${JSON.stringify(get(r))}, baselines ${JSON.stringify(entry.value)}`);
    }
  }
  assert.ok(compared > 40, `only ${compared} fields compared`);
  assert.deepEqual(bad, []);
});

test('registry holds the RSB procedures and the earlier ones, all valid and distinct', () => {
  for (const id of ['a1', 'a2', 'a3', 'resnet-original-90ep', 'torchvision-90ep']) assert.equal(getRecipe(id).id, id);
  const hashes = Object.values(recipes).map(recipeHash);
  assert.equal(new Set(hashes).size, hashes.length);
  for (const r of Object.values(recipes)) validateRecipe(r, r.id);
  assert.throws(() => getRecipe('a4'), /unknown recipe 'a4' \(known: a1, a2, a3/);
  const orig = getRecipe('resnet-original-90ep');
  assert.equal(orig.optimizer.name, 'sgd');
  assert.equal(orig.loss.kind, 'ce');
  assert.equal(orig.schedule.kind, 'step');
  assert.equal(totalEpochs(a1), 610);
  assert.equal(totalEpochs(orig), 90);
});

test('hash: stable under key order, changes with any value', () => {
  const shuffled = Object.fromEntries(Object.entries(a2).reverse()) as Recipe;
  assert.equal(recipeHash(shuffled), recipeHash(a2));
  assert.match(recipeHash(a2), /^[0-9a-f]{64}$/);
  const tweaked = structuredClone(a2);
  tweaked.train.rrcScale = [0.08, 0.99];
  assert.notEqual(recipeHash(tweaked), recipeHash(a2));
});

test('derive: a few lines give a validated recipe with its own hash', () => {
  const short = derive(a2, { epochs: 50 });
  assert.equal(short.epochs, 50);
  assert.equal(short.id, 'a2-derived');
  assert.equal(short.derivedFrom, 'a2');
  assert.equal(short.optimizer.weightDecay, 0.02, 'untouched fields are inherited');
  assert.notEqual(recipeHash(short), recipeHash(a2));
  assert.equal(a2.epochs, 300, 'the base is not mutated');

  const sgd = deriveRecipe(a1, {
    id: 'a1-sgd',
    optimizer: { name: 'sgd', lr: 0.5, weightDecay: 1e-4, weightDecayExempt: '1d-and-bias', momentum: 0.9, nesterov: true },
  });
  assert.deepEqual(Object.keys(sgd.optimizer).sort(), ['lr', 'momentum', 'name', 'nesterov', 'weightDecay', 'weightDecayExempt']);

  assert.throws(() => derive(a2, { epochs: 0 }), /deriveRecipe\(a2 -> a2-derived\): invalid recipe:\n {2}\/epochs/);
  assert.throws(() => derive(a2, { train: { hflip: 1.5 } }), /\/train\/hflip/);
  assert.throws(() => derive(a2, { train: { hfilp: 0.5 } } as never), /\/train\/hfilp/, 'a typo is an error, not a silent no-op');
});

test('loadRecipe: registry id, JSON file, module with a derived recipe; errors name the file', async () => {
  const { loadRecipe } = await import('../../recipes/index.ts');
  const { mkdtempSync, writeFileSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const dir = mkdtempSync(join(tmpdir(), 'rsb-recipe-'));
  try {
    assert.equal(await loadRecipe('a3'), a3);
    await assert.rejects(loadRecipe('a9'), /unknown recipe 'a9'/);

    const json = join(dir, 'short.json');
    writeFileSync(json, JSON.stringify(derive(a2, { id: 'a2-short', epochs: 20 })));
    const fromJson = await loadRecipe(json);
    assert.equal(fromJson.epochs, 20);
    assert.equal(recipeHash(fromJson), recipeHash(derive(a2, { id: 'a2-short', epochs: 20 })));

    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ ...a2, epochs: 'many' }));
    await assert.rejects(loadRecipe(bad), (e: Error) => e.message.startsWith(`${bad}: invalid recipe`) && /\/epochs/.test(e.message));
    const broken = join(dir, 'broken.json');
    writeFileSync(broken, '{ nope');
    await assert.rejects(loadRecipe(broken), new RegExp(`${broken.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: not readable JSON`));

    const mod = join(dir, 'a2-50.ts');
    const indexUrl = new URL('../../recipes/index.ts', import.meta.url).href;
    writeFileSync(mod, `import { a2, derive } from ${JSON.stringify(indexUrl)};\nexport default derive(a2, { epochs: 50 });\n`);
    const fromTs = await loadRecipe(mod);
    assert.equal(fromTs.epochs, 50);
    assert.equal(fromTs.derivedFrom, 'a2');
    await assert.rejects(loadRecipe(join(dir, 'missing.ts')), /missing\.ts: no such recipe file/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
