// Param modules: a module that only supplies values passed as params (the recipe registry)
// is neither hashed as code nor followed, so editing recipes/a2.ts leaves train:a1 cached,
// while code the stage really runs (recipes/schema.ts, the loop) still enters its key.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { localImports, rootRelative } from '../../src/graph/imports.ts';
import { buildGraph } from '../../src/pipeline/definition.ts';

test('localImports: skipped modules are neither listed nor followed, unless reached another way', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rsb-param-modules-'));
  try {
    writeFileSync(join(dir, 'stage.ts'), "import { v } from './values.ts';\nimport { f } from './code.ts';\n");
    writeFileSync(join(dir, 'values.ts'), "import './only-via-values.ts';\nimport './shared.ts';\nexport const v = 1;\n");
    writeFileSync(join(dir, 'only-via-values.ts'), 'export {};\n');
    writeFileSync(join(dir, 'code.ts'), "import './shared.ts';\nexport const f = 2;\n");
    writeFileSync(join(dir, 'shared.ts'), 'export {};\n');
    const all = localImports(join(dir, 'stage.ts')).map((p) => rootRelative(dir, p));
    assert.deepEqual(all, ['code.ts', 'only-via-values.ts', 'shared.ts', 'values.ts']);
    const skipped = localImports(join(dir, 'stage.ts'), new Map(), new Set([join(dir, 'values.ts')])).map((p) => rootRelative(dir, p));
    assert.deepEqual(skipped, ['code.ts', 'shared.ts']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('real graph: train:a1 and eval:a1 hash the code they run but not the recipe registry', async () => {
  const graph = await buildGraph({ devices: 1, deviceKind: 'cpu', vars: {} });
  const root = resolve(new URL('../..', import.meta.url).pathname);
  for (const id of ['train:a1', 'eval:a1']) {
    const stage = graph.stages.get(id)!;
    assert.ok(stage, `${id} in the graph`);
    const skip = new Set(stage.paramModules.map((m) => resolve(root, m)));
    const mods = localImports(resolve(root, stage.script), new Map(), skip).map((p) => rootRelative(root, p));
    for (const m of ['recipes/a1.ts', 'recipes/a2.ts', 'recipes/index.ts', 'recipes/registry.ts']) {
      assert.ok(!mods.includes(m), `${id} must not hash ${m} as code`);
    }
    assert.ok(mods.includes('recipes/schema.ts'), `${id} hashes the recipe schema`);
    assert.ok(mods.includes('src/pipeline/profiles.ts'), `${id} hashes the profile rules`);
  }
  // The recipe values themselves are in the params.
  const p = graph.stages.get('train:a1')!.params as { recipe: { optimizer: { weightDecay: number } } };
  assert.equal(p.recipe.optimizer.weightDecay, 0.01);
});
