// The command line: bad input named clearly, subcommands, help, and a light orchestrator.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { localImports } from '../../src/graph/imports.ts';
import { BASIC, Clone, repoRoot } from './helpers.ts';

let c: Clone;
before(async () => {
  c = new Clone('cli');
});
after(() => c.remove());

test('an unknown target lists the known ones with a did-you-mean', async () => {
  const r = await c.main([...BASIC, '--target', 'uper']);
  assert.equal(r.code, 2);
  assert.match(r.err, /unknown target 'uper' \(did you mean 'upper'\?\)\. Known stages: source, upper, count, report/);
});

test('a cycle names its stages', async () => {
  const r = await c.main(['--graph', 'test/fixtures/bad/cycle.ts', 'list']);
  assert.equal(r.code, 2);
  assert.match(r.err, /cycle .*: a -> b -> c -> a/);
});

test('params failing their schema name the path and the expected type', async () => {
  const r = await c.main(['--graph', 'test/fixtures/bad/params.ts', '--dry-run']);
  assert.equal(r.code, 2);
  assert.match(r.err, /stage train:a1: params do not match the schema\n\s+params\/recipe\/weight_decay: expected number, got string "0\.01"/);
});

test('a graph module whose buildGraph() does not return a defineGraph() result is named', async () => {
  const r = await c.main(['--graph', 'test/fixtures/bad/not-a-graph.ts', 'list']);
  assert.equal(r.code, 2);
  assert.match(r.err, /graph module .*not-a-graph\.ts: buildGraph\(\) must return the result of defineGraph\(\)/);
});

test('a missing external input names the path', async () => {
  for (const mode of [['--dry-run'], []]) {
    const r = await c.main([...BASIC, '--set', 'input=data/nowhere.txt', ...mode]);
    assert.equal(r.code, 2);
    assert.match(r.err, /stage source: external input 'text' not found: data\/nowhere\.txt/);
  }
});

test('bad flags and unknown graph modules are reported, --help exits 0', async () => {
  const jobs = await c.main([...BASIC, '--jobs', 'many']);
  assert.equal(jobs.code, 2);
  assert.match(jobs.err, /--jobs takes a whole number >= 1, got 'many'/);
  const g = await c.main(['--graph', 'nope/graph.ts', 'list']);
  assert.equal(g.code, 2);
  assert.match(g.err, /graph module .*nope\/graph\.ts not found/);
  const h = await c.main(['--help']);
  assert.equal(h.code, 0);
  for (const flag of ['--target', '--dry-run', '--explain', '--force', '--only', '--jobs', '--devices', '--cache-dir', 'status', 'gc']) {
    assert.ok(h.out.includes(flag), `help mentions ${flag}`);
  }
});

test('list, graph --format mermaid|dot, status and gc', async () => {
  const list = await c.main([...BASIC, 'list']);
  assert.match(list.out, /report\s+test\/fixtures\/basic\/stages\/report\.ts\s+\(after upper, count; default target\)/);
  const mer = await c.main([...BASIC, 'graph', '--format', 'mermaid']);
  assert.match(mer.out, /^flowchart LR\n/);
  assert.match(mer.out, /s0\["source"\][\s\S]*s0 --> s1/);
  const dot = await c.main([...BASIC, 'graph', '--format', 'dot']);
  assert.match(dot.out, /digraph pipeline \{[\s\S]*"upper" -> "report";/);

  const before = await c.main([...BASIC, 'status']);
  assert.match(before.out, /source\s+stale\s+[0-9a-f]{12}\s+never ran/);
  assert.equal((await c.main(BASIC)).code, 0);
  c.started();
  const st = await c.main([...BASIC, 'status']);
  assert.match(st.out, /report\s+cached\s+[0-9a-f]{12}\s+ran \d{4}-/);

  // An entry no record refers to (an older param value) is what gc deletes.
  c.write('test/fixtures/basic/params.json', JSON.stringify({ upper: { suffix: '~' } }));
  assert.equal((await c.main(BASIC)).code, 0);
  const dry = await c.main([...BASIC, 'gc', '--dry-run']);
  assert.match(dry.out, /would free .* in 2 folder\(s\); kept 4 entries/);
  const gc = await c.main([...BASIC, 'gc']);
  assert.match(gc.out, /freed .* in 2 folder\(s\)/);
  assert.match(gc.out, /forgot 2 vanished file\(s\) in the hash memo/);
  const again = await c.main(BASIC);
  assert.match(again.out, /cached 4/);
  // The run ends by naming the folder that holds each target's outputs.
  const m = /^== outputs of report: (artifacts\/cache\/[0-9a-f]{64}\/out)$/m.exec(again.out);
  assert.ok(m, `no outputs line in:\n${again.out}`);
  assert.ok(existsSync(join(c.dir, m[1], 'report.txt')));
});

test('pipeline.ts never loads tfjs or sharp (static import closure, graph definition included)', () => {
  const roots = [join(repoRoot, 'pipeline.ts')];
  const definition = join(repoRoot, 'src/pipeline/definition.ts');
  if (existsSync(definition)) roots.push(definition);
  const files = new Set(roots.flatMap((r) => [r, ...localImports(r)]));
  const offenders: string[] = [];
  for (const f of files) {
    if (!/\.[cm]?[jt]s$/.test(f)) continue;
    const src = readFileSync(f, 'utf8');
    for (const m of src.matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)['"]([^'"]+)['"]/g)) {
      if (/^@tensorflow\/|^sharp$/.test(m[1])) offenders.push(`${f.slice(repoRoot.length + 1)} imports ${m[1]}`);
    }
  }
  assert.deepEqual(offenders, []);
});

test('pipeline.ts, run on the real graph definition, loads no tfjs or sharp module', async () => {
  const spy = join(c.dir, 'loaded.txt');
  const r = spawnSync(
    process.execPath,
    ['--import', 'tsx', '--import', './test/fixtures/load-spy.mjs', 'pipeline.ts', 'list'],
    { cwd: repoRoot, env: { ...process.env, RSB_LOAD_SPY: spy }, encoding: 'utf8' },
  );
  assert.equal(r.status, 0, r.stderr);
  const loaded = readFileSync(spy, 'utf8').split('\n').filter(Boolean);
  assert.ok(loaded.some((u) => u.endsWith('/src/cli/main.ts')), 'the spy saw the orchestrator load');
  assert.deepEqual(loaded.filter((u) => /@tensorflow|node_modules\/sharp\//.test(u)), []);
  // Start-up cost: TypeBox comes from its CommonJS build (required on the main thread), never
  // from its ~250-file ESM build through the loader thread (src/cli/typebox-cjs-hooks.mjs).
  assert.ok(loaded.some((u) => /@sinclair\/typebox\/build\/cjs\//.test(u)), 'TypeBox loaded from build/cjs');
  assert.deepEqual(loaded.filter((u) => /@sinclair\/typebox\/build\/esm\//.test(u)), []);
});

test('a stage that does not write a declared output fails and publishes nothing', async () => {
  const r = await c.main(['--graph', 'test/fixtures/bad/outputs.ts']);
  assert.equal(r.code, 1);
  assert.match(r.out, /forgetful: failed \(did not write its declared output summary\.json/);
  const plan = await c.main(['--graph', 'test/fixtures/bad/outputs.ts', '--dry-run']);
  assert.match(plan.out, /would run\s+forgetful/);
});

test('the live view draws running stages and their output on a terminal', async () => {
  const { LiveView } = await import('../../src/cli/view.ts');
  const { PassThrough } = await import('node:stream');
  const tty = Object.assign(new PassThrough(), { isTTY: true, columns: 100, rows: 30 });
  let text = '';
  tty.on('data', (d) => (text += d));
  const view = await LiveView.create(tty);
  view.start(['a', 'b']);
  view.state('a', 'running', 'devices 0');
  view.line('a', 'epoch 1');
  view.state('b', 'cached');
  view.state('a', 'done');
  view.finish();
  const plain = text.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '');
  assert.match(plain, /▶ a\s+running\s+[\d.]+s\s+devices 0/);
  assert.match(plain, /\[a\] epoch 1/);
  assert.match(plain, /✓ a done in/);
  assert.match(plain, /cached 1 · done 1|done 1 · cached 1/);
});

test('the plain view sends a burst of lines in one write, in order, all out by finish()', async () => {
  const { PlainView } = await import('../../src/cli/view.ts');
  const { Writable } = await import('node:stream');
  const writes: string[][] = [];
  const sink = new Writable({
    write(chunk, _enc, cb) {
      writes.push([String(chunk)]);
      cb();
    },
    writev(chunks, cb) {
      writes.push(chunks.map((c) => String(c.chunk)));
      cb();
    },
  });
  const view = new PlainView(sink);
  const ids = Array.from({ length: 50 }, (_, i) => `s${i}`);
  view.start(ids);
  for (const id of ids) view.state(id, 'cached');
  view.finish(); // synchronously after the burst: nothing may still sit in the cork
  assert.equal(writes.length, 1, 'one write for the whole burst');
  const lines = writes.flat().join('').trim().split('\n');
  assert.deepEqual(lines, [...ids.map((id) => `== ${id}: cached`), '== cached 50']);
  // A later line (a new tick) still gets out on its own.
  view.note('later');
  await new Promise((r) => setImmediate(r));
  assert.equal(writes.flat().join('').split('\n').at(-2), '-- later');
});
