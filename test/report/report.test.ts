import { test } from 'node:test';
import assert from 'node:assert/strict';
import { renderReport, differences, type ReportInput } from '../../src/report/render.ts';
import { loadPaperResults } from '../../src/report/paper.ts';
import type { EpochMetrics, RunInfo } from '../../src/train/metrics.ts';

/** A strict tag-balance check: every opened element is closed in order (void HTML elements excepted). */
function assertWellFormed(doc: string, what: string): void {
  const voids = new Set(['meta', 'br', 'img', 'hr', 'link', 'input']);
  const stack: string[] = [];
  const re = /<(\/?)([a-zA-Z][\w-]*)((?:\s+[\w:-]+="[^"]*")*)\s*(\/?)>|<!DOCTYPE html>|<!--[\s\S]*?-->/g;
  let m: RegExpExecArray | null;
  let last = 0;
  while ((m = re.exec(doc))) {
    const between = doc.slice(last, m.index);
    assert.ok(!/[<>]/.test(between), `${what}: stray angle bracket near ${JSON.stringify(between.slice(0, 60))}`);
    last = re.lastIndex;
    if (!m[2]) continue;
    const [, close, name, , self] = m;
    if (close) assert.equal(stack.pop(), name, `${what}: </${name}> closes the wrong element`);
    else if (!self && !voids.has(name.toLowerCase())) stack.push(name);
  }
  assert.deepEqual(stack, [], `${what}: unclosed elements`);
}

function epochs(n: number, base: number): EpochMetrics[] {
  return Array.from({ length: n }, (_, i) => ({
    epoch: i, loss: 0.7 - i * 0.05, lr: 1e-3 * (i + 1), trainTop1: base + i, evalTop1: base + 2 * i,
    imagesPerSec: 100, elapsed: 10 * (i + 1), updates: 5 * (i + 1), samples: 320,
  }));
}

function runInfo(recipe: string): RunInfo {
  return {
    stage: `train:${recipe}`, recipe, recipeHash: 'abc123def4567890', profile: 'embedded', scaling: ['epochs 600 -> 15'],
    backend: 'wasm', versions: { '@tensorflow/tfjs-core': '4.22.0' }, devices: 2, arch: 'resnet_tiny', trainSize: 56,
    epochs: 3, globalBatch: 64, microBatch: 32, lr: 8.8e-4, notHonoured: [{ field: 'precision', reason: 'no fp16 <on> wasm & cpu' }],
    datasetClasses: 10, trainSamples: 600, seed: 0, startedAt: 'x', finishedAt: 'y', resumes: 0,
    lrSchedule: [{ epoch: 0, lr: 1e-4 }, { epoch: 0.5, lr: 5e-3 }, { epoch: 3, lr: 1e-6 }],
  };
}

test('report renders well-formed HTML with inline SVG charts and the paper figures', () => {
  const paper = loadPaperResults();
  const input: ReportInput = {
    paper,
    dataset: 'embedded <synthetic> & small',
    runsFinishedAt: '2026-01-01T00:00:00Z',
    runs: ['a1', 'a2', 'a3'].map((recipe, i) => ({
      recipe, epochs: epochs(3 + i, 20), run: runInfo(recipe),
      eval: { recipe, source: 'checkpoint', top1: 61.5 + i, top5: 95, count: 200, imageSize: 56, cropPct: 0.95, interpolation: 'bicubic', backend: 'wasm', perClass: [], seconds: 1 },
    })),
  };
  const r = renderReport(input);
  assertWellFormed(r.html, 'report.html');
  for (const svg of Object.values(r.charts)) assertWellFormed(svg, 'chart');
  assert.equal((r.html.match(/<svg /g) ?? []).length, 4, 'top-1 bars, learning curves, loss, LR');
  assert.ok(!/<script|src=|href=/.test(r.html), 'self-contained: no scripts, no external references');
  // Our figure and the paper's appear side by side, with the paper's source.
  assert.match(r.markdown, /\| a1 \| 61\.50 % \| 95\.00 % \| 200 \| .* \| 80\.4 \| paper abstract \|/);
  assert.match(r.markdown, /\| a2 \| 62\.50 % .* 79\.8 \(unconfirmed\)/);
  assert.ok(r.html.includes('embedded &lt;synthetic&gt; &amp; small'), 'text is escaped');
  const diff = differences(input).join('\n');
  assert.match(diff, /ImageNet-1k/);
  assert.match(diff, /precision \(no fp16 <on> wasm & cpu\)/);
  assert.match(diff, /wasm with 2 worker/);
});

test('report copes with a recipe that has no eval yet and no metrics', () => {
  const r = renderReport({ paper: loadPaperResults(), dataset: 'd', runsFinishedAt: 't', runs: [{ recipe: 'a3', epochs: [], run: null, eval: null }] });
  assertWellFormed(r.html, 'report.html');
  assert.match(r.markdown, /\| a3 \| n\/a/);
});
