// Each kind of change makes exactly the affected stages stale, --explain names it, unrelated
// edits change nothing, and an upstream rerun with identical output stops there (early cutoff).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { BASIC, Clone, planStates } from './helpers.ts';

let c: Clone;
before(async () => {
  c = new Clone('stale');
  const r = await c.main(BASIC);
  assert.equal(r.code, 0, r.out + r.err);
  assert.deepEqual(c.started(), ['count', 'report', 'source', 'upper']);
});
after(() => c.remove());

const allCached = { source: 'cached', upper: 'cached', count: 'cached', report: 'cached' };

test('a no-op rerun runs nothing', async () => {
  const r = await c.main(BASIC);
  assert.equal(r.code, 0);
  assert.deepEqual(c.started(), []);
  assert.match(r.out, /cached 4/);
});

test('a comment in a module no stage imports changes nothing', async () => {
  c.append('test/fixtures/basic/lib/unused.ts', '// an unrelated edit\n');
  assert.deepEqual(await planStates(c), allCached);
});

test('a script edit with identical output: that stage reruns, its dependent stays cached', async () => {
  c.append('test/fixtures/basic/stages/count.ts', '// a harmless comment\n');
  assert.deepEqual(await planStates(c), { ...allCached, count: 'run', report: 'pending' });
  const ex = await c.main([...BASIC, '--explain', 'count']);
  assert.match(ex.out, /script test\/fixtures\/basic\/stages\/count\.ts changed/);
  const ex2 = await c.main([...BASIC, '--explain', 'report']);
  assert.match(ex2.out, /count will run/);
  const r = await c.main(BASIC);
  assert.equal(r.code, 0);
  assert.deepEqual(c.started(), ['count'], 'report must be cut off: count wrote the same bytes');
});

test('an imported module edit makes only its importers stale and is named', async () => {
  c.write('test/fixtures/basic/lib/shout.ts', c.read('test/fixtures/basic/lib/shout.ts').replace('+ suffix', "+ suffix + '?'"));
  assert.deepEqual(await planStates(c), { ...allCached, upper: 'run', report: 'pending' });
  const ex = await c.main([...BASIC, '--explain', 'upper']);
  assert.match(ex.out, /imported module test\/fixtures\/basic\/lib\/shout\.ts changed/);
  assert.equal((await c.main(BASIC)).code, 0);
  assert.deepEqual(c.started(), ['report', 'upper'], 'upper output changed, so report reruns');
});

test('an upstream output change is named in the dependent explanation', async () => {
  // The last run changed upper's output: report's record says so, compared with the run before.
  c.append('test/fixtures/basic/lib/shout.ts', '// comment\n');
  c.write('test/fixtures/basic/lib/shout.ts', c.read('test/fixtures/basic/lib/shout.ts').replace("+ '?'", "+ '?!'"));
  await c.main(['--target', 'upper', ...BASIC]);
  c.started();
  const ex = await c.main([...BASIC, '--explain', 'report']);
  assert.match(ex.out, /upstream upper output changed/);
  assert.equal((await c.main(BASIC)).code, 0);
  assert.deepEqual(c.started(), ['report']);
});

test('one param change: only that stage (and what its output feeds) is stale; the path is named', async () => {
  c.write('test/fixtures/basic/params.json', JSON.stringify({ upper: { suffix: '#' } }));
  assert.deepEqual(await planStates(c), { ...allCached, upper: 'run', report: 'pending' });
  const ex = await c.main([...BASIC, '--explain', 'upper']);
  assert.match(ex.out, /param \/suffix changed: "!" -> "#"/);
  assert.equal((await c.main(BASIC)).code, 0);
  assert.deepEqual(c.started(), ['report', 'upper']);
});

test('an external input file change: the reading stage reruns and the file is named', async () => {
  c.write('test/fixtures/basic/data/in.txt', 'hello\nthere\nworld\n');
  assert.deepEqual(await planStates(c), { source: 'run', upper: 'pending', count: 'pending', report: 'pending' });
  const ex = await c.main([...BASIC, '--explain', 'source']);
  assert.match(ex.out, /input 'text' \(test\/fixtures\/basic\/data\/in\.txt\) changed/);
  assert.equal((await c.main(BASIC)).code, 0);
  assert.deepEqual(c.started(), ['count', 'report', 'source', 'upper']);
});

test('touching an input without changing it reruns nothing (content, not mtime, is keyed)', async () => {
  c.write('test/fixtures/basic/data/in.txt', c.read('test/fixtures/basic/data/in.txt'));
  assert.deepEqual(await planStates(c), allCached);
});

test('a reverted param reuses the older entry', async () => {
  c.write('test/fixtures/basic/params.json', JSON.stringify({ upper: { suffix: '%' } }));
  assert.equal((await c.main(BASIC)).code, 0);
  assert.deepEqual(c.started(), ['report', 'upper']);
  c.write('test/fixtures/basic/params.json', JSON.stringify({ upper: { suffix: '#' } }));
  const ex = await c.main([...BASIC, '--explain', 'upper']);
  assert.match(ex.out, /up to date.*reuses an entry from an earlier run/);
  assert.equal((await c.main(BASIC)).code, 0);
  assert.deepEqual(c.started(), []);
});
