import { test } from 'node:test';
import assert from 'node:assert/strict';
import { evaluateLogits, ScoreAccumulator } from '../../src/train/evaluate-model.ts';
import { countDominantHits } from '../../src/train/step.ts';

test('top-1 / top-5 / per-class from logits, computed by hand', () => {
  const C = 6;
  // sample 0 (label 2): label is the max -> top-1 and top-5
  // sample 1 (label 0): 5 classes score higher -> neither
  // sample 2 (label 5): 3 classes higher -> top-5 only
  // sample 3 (label 1): tied with the max -> counts as a hit (no class strictly higher)
  const logits = new Float32Array([
    0, 1, 9, 2, 3, 4,
    0, 1, 2, 3, 4, 5,
    9, 8, 7, 0, 0, 6,
    1, 5, 5, 0, 0, 0,
  ]);
  const labels = new Int32Array([2, 0, 5, 1]);
  const s = evaluateLogits(logits, labels, C);
  assert.equal(s.top1, 50);
  assert.equal(s.top5, 75);
  assert.deepEqual(s.perClass.map((c) => [c.correct, c.total]), [[0, 1], [1, 1], [1, 1], [0, 0], [0, 0], [0, 1]]);
  // Streaming in two halves gives the same scores.
  const acc = new ScoreAccumulator(C);
  acc.add(logits.subarray(0, 2 * C), labels.subarray(0, 2));
  acc.add(logits.subarray(2 * C), labels.subarray(2));
  assert.deepEqual(acc.scores(), s);
  assert.equal(acc.count, 4);
});

test('train top-1 on mixed targets counts the dominant label', () => {
  const C = 3;
  const logits = new Float32Array([3, 1, 0, 0, 2, 1]);
  const targets = new Float32Array([0.7, 0.3, 0, 0.4, 0, 0.6]); // dominant: 0, then 2
  assert.equal(countDominantHits(logits, targets, 2, C), 1);
});
