// stages/compare.ts run by hand twice on the same train/eval outputs writes byte-identical
// files: the report carries the newest run's finish time, not the time it was rendered, so
// a cached compare entry is reproducible and a rerun after an unrelated change cuts off early.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

function fixture(dir: string, recipe: string, finishedAt: string): { train: string; evalDir: string } {
  const train = join(dir, `train-${recipe}`), evalDir = join(dir, `eval-${recipe}`);
  mkdirSync(train, { recursive: true });
  mkdirSync(evalDir, { recursive: true });
  writeFileSync(join(train, 'run.json'), JSON.stringify({
    stage: `train:${recipe}`, recipe, recipeHash: 'abc123def4567890', profile: 'embedded', scaling: ['epochs 600 -> 15'],
    backend: 'wasm', versions: { '@tensorflow/tfjs-core': '4.22.0' }, devices: 1, arch: 'resnet_tiny', trainSize: 56,
    epochs: 2, globalBatch: 64, microBatch: 32, lr: 8.8e-4, notHonoured: [], datasetClasses: 10, trainSamples: 600, seed: 0,
    startedAt: '2026-11-27T07:00:00.000Z', finishedAt, resumes: 0, lrSchedule: [{ epoch: 0, lr: 1e-4 }, { epoch: 2, lr: 1e-6 }],
  }));
  writeFileSync(join(train, 'metrics.jsonl'), [0, 1].map((epoch) => JSON.stringify({
    epoch, loss: 0.6 - 0.1 * epoch, lr: 1e-3, trainTop1: 30 + epoch, evalTop1: 40 + epoch, imagesPerSec: 100, elapsed: 10 * (epoch + 1), updates: 9 * (epoch + 1), samples: 600,
  })).join('\n') + '\n');
  writeFileSync(join(evalDir, 'metrics.json'), JSON.stringify({
    recipe, source: 'checkpoint', top1: 60, top5: 90, count: 200, imageSize: 56, cropPct: 0.95, interpolation: 'bicubic', backend: 'wasm', perClass: [], seconds: 1,
  }));
  return { train, evalDir };
}

test('compare run twice on the same runs writes identical reports stamped with the newest run', () => {
  const dir = mkdtempSync(join(tmpdir(), 'compare-stage-'));
  try {
    const a1 = fixture(dir, 'a1', '2026-11-27T07:10:00.000Z');
    const a2 = fixture(dir, 'a2', '2026-11-27T07:20:00.000Z');
    const outputs = ['out1', 'out2'].map((name) => {
      const out = join(dir, name);
      const r = spawnSync(process.execPath, ['--import', 'tsx', 'stages/compare.ts', '--run', `a1=${a1.train}:${a1.evalDir}`, '--run', `a2=${a2.train}:${a2.evalDir}`, '--out', out, '--dataset', 'fixture'], { cwd: ROOT, encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      return out;
    });
    for (const f of ['report.md', 'report.html', 'top1.svg', 'learning-curves.svg', 'lr-schedule.svg']) {
      assert.ok(readFileSync(join(outputs[0], f)).equals(readFileSync(join(outputs[1], f))), `${f} differs between two runs`);
    }
    assert.match(readFileSync(join(outputs[0], 'report.md'), 'utf8'), /Runs finished 2026-11-27T07:20:00\.000Z\./);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
