// --artifacts-dir / RSB_ARTIFACTS_DIR move ALL of a clone's local state (store, run records,
// resumable scratch, hash memo) out of <root>/artifacts: a read-only checkout, a CI job or a
// test can run the pipeline without writing into the repository.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { BASIC, Clone } from './helpers.ts';

test('--artifacts-dir keeps the store, run records and memo outside the clone; --explain reads them there', async () => {
  const c = new Clone('artifacts-dir');
  const elsewhere = mkdtempSync(join(tmpdir(), 'rsb-artifacts-'));
  try {
    const first = await c.main([...BASIC, '--artifacts-dir', elsewhere]);
    assert.equal(first.code, 0, first.out + first.err);
    assert.equal(c.started().length, 4);
    assert.ok(!existsSync(c.path('artifacts')), 'nothing written under <clone>/artifacts');
    for (const d of ['cache', 'runs']) assert.ok(readdirSync(join(elsewhere, d)).length > 0, `${d} is under --artifacts-dir`);
    assert.ok(existsSync(join(elsewhere, 'hash-memo.json')), 'the hash memo is under --artifacts-dir');

    // The same state through the environment: all cached, and --explain finds the run records.
    const again = await c.main(BASIC, { RSB_ARTIFACTS_DIR: elsewhere });
    assert.equal(again.code, 0, again.out + again.err);
    assert.deepEqual(c.started(), []);
    assert.match(again.out, /cached 4/);
    assert.ok(!existsSync(c.path('artifacts')), 'still nothing under <clone>/artifacts');

    // Without it, the clone's own (empty) artifacts folder is used: everything runs again.
    const local = await c.main(BASIC);
    assert.equal(local.code, 0);
    assert.equal(c.started().length, 4);
    assert.ok(existsSync(c.path('artifacts/cache')));
  } finally {
    c.remove();
    rmSync(elsewhere, { recursive: true, force: true });
  }
});
