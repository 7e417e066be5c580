// Killed runs, concurrent pipelines and tampered entries.
import assert from 'node:assert/strict';
import { appendFileSync, existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { BASIC, Clone, entries, planStates, recordKey, waitFor } from './helpers.ts';

test('SIGKILL of a running stage publishes no entry; the rerun recovers the lock and completes', async () => {
  const c = new Clone('kill');
  try {
    const p = c.spawn(BASIC, { RSB_FIXTURE_SLEEP: 'source=20000' });
    await waitFor(() => existsSync(c.trace) && c.read('trace.log').includes('start source'), 30_000, 'source to start');
    process.kill(-p.pid!, 'SIGKILL'); // the whole group: pipeline and stage, as a crash or kill -9 would
    await p.done;
    const store = c.path('artifacts/cache');
    assert.deepEqual(entries(store), [], 'nothing may be published');
    assert.equal(readdirSync(join(store, '.locks')).length, 1, 'the killed run leaves its lock behind');
    assert.equal(readdirSync(c.path('artifacts/work')).length, 1, 'the scratch folder survives for a resume');
    c.takeTrace();

    const r = await c.main(BASIC);
    assert.equal(r.code, 0, r.out + r.err);
    assert.match(r.out, /taking over a stale lock \(its holder \(pid \d+\) is gone\)/);
    assert.deepEqual(c.started(), ['count', 'report', 'source', 'upper']);
    assert.equal(entries(store).length, 4);
    assert.equal(c.read(`artifacts/cache/${recordKey(c, 'report')}/out/report.txt`), '2 lines\nHELLO\nWORLD\n!');
    assert.deepEqual(readdirSync(c.path('artifacts/work')), [], 'scratch is deleted after publish');
  } finally {
    c.remove();
  }
});

test('a stage orphaned by a pipeline killed alone keeps its lock: the rerun waits for it, then runs', async () => {
  const c = new Clone('orphan');
  try {
    const p = c.spawn(['--target', 'source', ...BASIC], { RSB_FIXTURE_SLEEP: 'source=2500' });
    await waitFor(() => existsSync(c.trace) && c.read('trace.log').includes('start source'), 30_000, 'source to start');
    process.kill(p.pid!, 'SIGKILL'); // the pipeline only: its stage process lives on
    await p.done;
    const r = await c.main(['--target', 'source', ...BASIC]);
    assert.equal(r.code, 0, r.out + r.err);
    assert.match(r.out, /source: locked \(held by stage pid \d+, left running by a killed pipeline\)/);
    const t = c.takeTrace().filter((e) => e.stage === 'source');
    const orphan = t.filter((e) => e.pid === t[0].pid);
    const rerun = t.filter((e) => e.pid !== t[0].pid);
    assert.equal(rerun.filter((e) => e.what === 'start').length, 1, 'the rerun ran source once');
    for (const e of orphan) assert.ok(e.t <= rerun[0].t, 'the orphan and the rerun never ran at the same time');
  } finally {
    c.remove();
  }
});

test('two pipelines started at once on the same target run each stage once', async () => {
  const c = new Clone('twice');
  try {
    const env = { RSB_FIXTURE_SLEEP: '150' };
    const [a, b] = await Promise.all([c.run(BASIC, env), c.run(BASIC, env)]);
    assert.equal(a.code, 0, a.out + a.err);
    assert.equal(b.code, 0, b.out + b.err);
    assert.deepEqual(c.started(), ['count', 'report', 'source', 'upper'], 'each stage ran exactly once');
    const ran = (out: string) => (out.match(/: done/g) ?? []).length;
    const reused = (out: string) => (out.match(/: cached/g) ?? []).length;
    assert.equal(ran(a.out) + ran(b.out), 4);
    assert.equal(reused(a.out) + reused(b.out), 4);
  } finally {
    c.remove();
  }
});

test('a tampered file in an entry is detected by its manifest and recomputed', async () => {
  const c = new Clone('tamper');
  try {
    assert.equal((await c.main(BASIC)).code, 0);
    c.takeTrace();
    const countOut = `artifacts/cache/${recordKey(c, 'count')}/out/count.json`;
    c.write(countOut, '{"lines": 99}');
    assert.deepEqual(await planStates(c), { source: 'cached', upper: 'cached', count: 'run', report: 'pending' });
    const ex = await c.main([...BASIC, '--explain', 'count']);
    assert.match(ex.out, /failed the manifest check \(out\/count\.json/);
    const r = await c.main(BASIC);
    assert.equal(r.code, 0, r.out + r.err);
    assert.deepEqual(c.started(), ['count'], 'recomputed output is identical, so report stays cached');
    assert.equal(c.read(countOut), '{"lines":2}');

    // A file slipped into an entry is caught too, even with every listed file intact.
    appendFileSync(c.path(`artifacts/cache/${recordKey(c, 'upper')}/out/extra.txt`), 'x');
    const ex2 = await c.main([...BASIC, '--explain', 'upper']);
    assert.match(ex2.out, /out\/extra\.txt is not in its manifest/);
  } finally {
    c.remove();
  }
});
