// The store is relocatable: keys hold no absolute paths, mtimes or host names, so a store
// restored into another clone at another path (what a CI cache step does) gives only hits.
import assert from 'node:assert/strict';
import { cpSync } from 'node:fs';
import { test } from 'node:test';
import { BASIC, Clone, entries } from './helpers.ts';

test('a store copied into a second clone at another path gives only cache hits', async () => {
  const a = new Clone('ci-a');
  const b = new Clone('ci-b');
  const c = new Clone('ci-c');
  try {
    assert.equal((await a.main(BASIC)).code, 0);
    assert.equal(a.started().length, 4);
    // Only the store travels (no run records, no hash memo), into fresh files with new mtimes.
    cpSync(a.path('artifacts/cache'), b.path('artifacts/cache'), { recursive: true, preserveTimestamps: false });
    const r = await b.main(BASIC);
    assert.equal(r.code, 0, r.out + r.err);
    assert.deepEqual(b.started(), [], 'nothing may run in the second clone');
    assert.match(r.out, /cached 4/);

    // --cache-dir and RSB_CACHE_DIR point a third clone at the first clone's store.
    const viaFlag = await c.main([...BASIC, '--cache-dir', a.path('artifacts/cache')]);
    assert.equal(viaFlag.code, 0);
    assert.match(viaFlag.out, /cached 4/);
    const viaEnv = await c.main(BASIC, { RSB_CACHE_DIR: a.path('artifacts/cache') });
    assert.match(viaEnv.out, /cached 4/);
    assert.deepEqual(c.started(), []);
    assert.deepEqual(entries(c.path('artifacts/cache')), [], 'the local store was not used');
  } finally {
    a.remove();
    b.remove();
    c.remove();
  }
});
