// The micro-batch planner: parameter counts from the plan, monotonic in resolution, and the
// micro-batches the benchmark ran within the wasm heap (docs/engine.md).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_BUDGET_BYTES, resnetMemoryPlan } from '../../src/engine/memory-plan.ts';

test('resnetMemoryPlan: resident bytes follow the parameter count (resnet50: 25,557,032)', () => {
  const p = resnetMemoryPlan({ arch: 'resnet50', resolution: 128, batch: 32 });
  assert.equal(p.residentBytes, 25_557_032 * 4 * 7);
  assert.ok(p.microBatch >= 1 && p.microBatch <= 32);
  assert.ok(p.residentBytes + p.microBatch * p.bytesPerImage <= DEFAULT_BUDGET_BYTES);
  assert.ok(p.residentBytes + (p.microBatch + 1) * p.bytesPerImage > DEFAULT_BUDGET_BYTES);
});

test('resnetMemoryPlan: larger images, smaller micro-batches; capped at the batch', () => {
  const at = (resolution: number) => resnetMemoryPlan({ arch: 'resnet50', resolution, batch: 256 }).microBatch;
  assert.ok(at(224) < at(160) && at(160) < at(128));
  assert.equal(resnetMemoryPlan({ arch: 'resnet18', resolution: 64, batch: 64 }).microBatch, 64);
  assert.throws(() => resnetMemoryPlan({ arch: 'resnet50', resolution: 224, batch: 8, budgetBytes: 2 ** 28 }), /not even one sample fits/);
});
