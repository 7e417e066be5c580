// Every shared golden case must pass through the conformance harness.
// One test per op folder, so a failure names the op and the case.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { runFolder } from '../../src/conformance/run.ts';

const root = new URL('../goldens/timm/', import.meta.url).pathname;
const ops = readdirSync(root).filter((d) => statSync(join(root, d)).isDirectory());
// Ops whose adapters run tfjs models are checked on both pure-JS and wasm backends.
const modelOps = new Set(['resnet']);

for (const op of ops) {
  for (const backend of modelOps.has(op) ? ['cpu', 'wasm'] : ['cpu']) {
    test(`goldens: ${op}${modelOps.has(op) ? ` (${backend})` : ''}`, async () => {
      const failures: string[] = [];
      let n = 0;
      for await (const r of runFolder(join(root, op), { backend })) {
        n++;
        if (!r.ok) failures.push(`${r.case}: ${r.error ?? r.checks.filter((k) => !k.ok).map((k) => `${k.name}: ${k.detail}`).join('; ')}`);
      }
      assert.ok(n > 0, `no cases found for ${op}`);
      assert.deepEqual(failures, []);
    });
  }
}
