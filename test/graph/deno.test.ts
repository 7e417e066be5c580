// The same fixture graph runs under Deno (stages too), and Node and Deno share one store and
// one hash memo: keys do not depend on the runtime, and file times compare in whole ms.
import assert from 'node:assert/strict';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { BASIC, Clone, repoRoot } from './helpers.ts';

test('the fixture graph runs under Deno, and Node reuses what Deno built', async () => {
  assert.ok(existsSync(join(repoRoot, 'node_modules/.bin/deno')), 'deno is a devDependency: run npm ci');
  const c = new Clone('deno');
  try {
    const d = await c.run(BASIC, {}, 'deno');
    assert.equal(d.code, 0, d.out + d.err);
    assert.match(d.out, /done 4/);
    assert.deepEqual(c.started(), ['count', 'report', 'source', 'upper']);
    assert.match(c.read('artifacts/runs/source.json'), /"how": "ran"/);

    const memo = c.path('artifacts/hash-memo.json');
    const memoBefore = statSync(memo).mtimeMs;
    const n = await c.main(BASIC);
    assert.equal(n.code, 0);
    assert.match(n.out, /cached 4/, 'Node hits the entries Deno published');
    // Node found every file in Deno's memo (whole-ms mtimes agree): nothing rehashed, memo not rewritten.
    assert.equal(statSync(memo).mtimeMs, memoBefore);

    c.write('test/fixtures/basic/data/in.txt', 'changed\n');
    const ex = await c.run([...BASIC, '--explain', 'source'], {}, 'deno');
    assert.match(ex.out, /input 'text' \(test\/fixtures\/basic\/data\/in\.txt\) changed/);
  } finally {
    c.remove();
  }
});
