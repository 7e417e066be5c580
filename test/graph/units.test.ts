// The small pieces of src/graph on their own: canonical JSON, import scanning, diffs,
// suggestions, locks, device hand-out, hashing and its memo.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { canonicalJson } from '../../src/graph/canonical.ts';
import { DevicePool } from '../../src/graph/devices.ts';
import { diffValues } from '../../src/graph/explain.ts';
import { HashMemo, sha256File } from '../../src/graph/hash.ts';
import { localImports, relativeSpecifiers } from '../../src/graph/imports.ts';
import { acquireLock } from '../../src/graph/lock.ts';
import { closest } from '../../src/graph/suggest.ts';

const tmp = mkdtempSync(join(tmpdir(), 'rsb-graph-units-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

test('canonical JSON sorts keys at every depth, drops undefined, refuses NaN', () => {
  assert.equal(canonicalJson({ b: 1, a: { d: [1, { y: 2, x: 1 }], c: undefined } }), '{"a":{"d":[1,{"x":1,"y":2}]},"b":1}');
  assert.throws(() => canonicalJson({ lr: Number.NaN }), /cannot hash NaN at \/lr: not a finite number/);
});

test('import scanning follows relative specifiers of every form, transitively, and resolves .js to .ts', () => {
  const src = `import a from './a.js';\nimport type { B } from "../b.ts";\nexport * from './c';\nimport './d.ts';\nconst e = await import('./e.ts');\nimport x from 'pkg';\nimport y from 'node:fs';`;
  assert.deepEqual(relativeSpecifiers(src), ['./a.js', '../b.ts', './c', './d.ts', './e.ts']);
  const d = join(tmp, 'imports');
  mkdirSync(join(d, 'lib'), { recursive: true });
  writeFileSync(join(d, 'main.ts'), "import { f } from './lib/f.js';\nimport { g } from './lib';\n");
  writeFileSync(join(d, 'lib/f.ts'), "export { h } from './h.ts';\nexport const f = 1;\n");
  writeFileSync(join(d, 'lib/h.ts'), 'export const h = 1;\n');
  writeFileSync(join(d, 'lib/index.ts'), "import data from './data.json' with { type: 'json' };\nexport const g = data;\n");
  writeFileSync(join(d, 'lib/data.json'), '{}');
  writeFileSync(join(d, 'lib/unrelated.ts'), 'export const u = 1;\n');
  assert.deepEqual(
    localImports(join(d, 'main.ts')).map((p) => p.slice(d.length + 1)),
    ['lib/data.json', 'lib/f.ts', 'lib/h.ts', 'lib/index.ts'],
  );
});

test('diffValues names JSON-pointer paths', () => {
  assert.deepEqual(diffValues({ recipe: { weight_decay: 0.01, lr: 5e-3, 'a/b': 1 } }, { recipe: { weight_decay: 0.02, lr: 5e-3 } }), [
    { path: '/recipe/a~1b', before: 1, after: undefined },
    { path: '/recipe/weight_decay', before: 0.01, after: 0.02 },
  ]);
  assert.deepEqual(diffValues([1, 2], [1, 2, 3]), [{ path: '/', before: [1, 2], after: [1, 2, 3] }]);
});

test('did-you-mean picks close ids', () => {
  assert.deepEqual(closest('eval:a4', ['eval:a1', 'eval:a2', 'train:a1', 'compare']), ['eval:a1', 'eval:a2']);
  assert.deepEqual(closest('zzzz', ['eval:a1']), []);
});

test('sha256File matches a one-shot hash across chunk boundaries; the memo skips unchanged files', async () => {
  const f = join(tmp, 'blob.bin');
  const data = Buffer.alloc((4 << 20) * 2 + 123);
  for (let i = 0; i < data.length; i += 4096) data[i] = i & 255;
  writeFileSync(f, data);
  assert.equal(await sha256File(f), createHash('sha256').update(data).digest('hex'));
  const memoFile = join(tmp, 'memo.json');
  const m1 = new HashMemo(memoFile);
  await m1.hashFile(f);
  m1.save();
  const m2 = new HashMemo(memoFile);
  await m2.hashFile(f);
  assert.equal(m2.hashedFiles, 0, 'unchanged file is not rehashed');
  // Same size, new content, new mtime (whole ms later): rehashed.
  data[0] = 7;
  writeFileSync(f, data);
  const later = new Date(Date.now() + 5000);
  utimesSync(f, later, later);
  const { sha256 } = await m2.hashFile(f);
  assert.equal(m2.hashedFiles, 1);
  assert.equal(sha256, createHash('sha256').update(data).digest('hex'));
});

test('a lock waits for its holder, and a dead holder\'s lock is taken over', async () => {
  const file = join(tmp, 'locks', 'k.lock');
  const first = await acquireLock(file, { stage: 's' });
  let waited = false;
  const second = acquireLock(file, { stage: 's', onWait: () => (waited = true) });
  await new Promise((r) => setTimeout(r, 100));
  assert.ok(waited);
  first.release();
  (await second).release();
  // A lock left by a process that no longer exists.
  writeFileSync(file, JSON.stringify({ pid: 2 ** 22 + 12345, host: hostname(), since: '', stage: 's' }));
  let stale = '';
  const third = await acquireLock(file, { stage: 's', onStale: (w) => (stale = w) });
  assert.match(stale, /is gone/);
  third.release();
  // A dead pipeline whose stage process still runs: not stale until that process ends too.
  const orphan = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 400)']);
  writeFileSync(file, JSON.stringify({ pid: 2 ** 22 + 12345, host: hostname(), since: '', stage: 's', child: orphan.pid }));
  let holder = '';
  const t0 = Date.now();
  const fourth = await acquireLock(file, { stage: 's', onWait: (h) => (holder = h) });
  assert.match(holder, /left running by a killed pipeline/);
  assert.ok(Date.now() - t0 >= 200, 'waited for the orphaned stage');
  fourth.setChild(process.pid);
  assert.equal(JSON.parse(readFileSync(file, 'utf8')).child, process.pid);
  fourth.release();
  assert.ok(!existsSync(file));
});

test('the device pool hands out distinct ids first come first served', async () => {
  const pool = new DevicePool(['0', '1', '2']);
  const a = await pool.acquire(2);
  let bGot: string[] | undefined;
  const b = pool.acquire(2).then((ids) => (bGot = ids));
  await new Promise((r) => setTimeout(r, 10));
  assert.equal(bGot, undefined, 'only one id is free');
  pool.release(a);
  await b;
  assert.equal(new Set([...bGot!]).size, 2);
  await assert.rejects(pool.acquire(4), /needs 4 devices but only 3/);
});

test('a stage declaring the engine fingerprint gets it in its key (tfjs versions, read without loading tfjs)', async () => {
  const { defineGraph } = await import('../../src/graph/define.ts');
  const { Session, artifactPaths } = await import('../../src/graph/session.ts');
  const { stageKey } = await import('../../src/graph/key.ts');
  const root = new URL('../..', import.meta.url);
  const decl = { id: 'count', script: 'test/fixtures/basic/stages/count.ts' };
  const graph = defineGraph({ root, stages: [decl, { ...decl, id: 'count:engine', fingerprint: 'engine' as const }] });
  const session = new Session(graph, artifactPaths(tmp));
  const plain = await stageKey(graph.stages.get('count')!, session.keys, {});
  const withEngine = await stageKey(graph.stages.get('count:engine')!, session.keys, {});
  assert.equal(plain.parts.engine, undefined);
  const fp = withEngine.parts.engine as { backend: string; versions: Record<string, string> };
  assert.match(fp.versions['@tensorflow/tfjs-core'], /^\d+\.\d+\.\d+/);
  // Another engine (e.g. a different tfjs version on a CI runner) means another key.
  const other = new Session(graph, artifactPaths(tmp), async () => ({ ...fp, versions: { ...fp.versions, '@tensorflow/tfjs-core': '0.0.1' } }));
  const k2 = await stageKey(graph.stages.get('count:engine')!, other.keys, {});
  assert.notEqual(k2.key, withEngine.key);
  assert.equal((await stageKey(graph.stages.get('count')!, other.keys, {})).key, plain.key);
});

test('the engine fingerprint records the JPEG decoders; installing, removing or disabling the binding changes the key and --explain names it', async () => {
  const { engineFingerprint, decoderVersions, packageVersion, JPEG_TURBO_ENV, JPEG_TURBO_PACKAGE } = await import('../../src/engine/fingerprint.ts');
  const { defineGraph } = await import('../../src/graph/define.ts');
  const { Session, artifactPaths } = await import('../../src/graph/session.ts');
  const { stageKey } = await import('../../src/graph/key.ts');
  const { explainChanges } = await import('../../src/graph/explain.ts');
  const fp = engineFingerprint('cpu');
  assert.equal(fp.decoders?.sharp, packageVersion('sharp'));
  assert.equal(fp.decoders?.[JPEG_TURBO_PACKAGE], packageVersion(JPEG_TURBO_PACKAGE) ?? 'absent');
  const before = process.env[JPEG_TURBO_ENV];
  process.env[JPEG_TURBO_ENV] = '0';
  try {
    assert.equal(decoderVersions()[JPEG_TURBO_PACKAGE], 'disabled');
  } finally {
    if (before === undefined) delete process.env[JPEG_TURBO_ENV];
    else process.env[JPEG_TURBO_ENV] = before;
  }
  const root = new URL('../..', import.meta.url);
  const graph = defineGraph({ root, stages: [{ id: 'count:engine', script: 'test/fixtures/basic/stages/count.ts', fingerprint: 'engine' as const }] });
  const stage = graph.stages.get('count:engine')!;
  const keyWith = async (decoders: Record<string, string>) => stageKey(stage, new Session(graph, artifactPaths(tmp), async () => ({ ...fp, decoders })).keys, {});
  const installed = await keyWith({ sharp: '0.35.5', [JPEG_TURBO_PACKAGE]: '2.3.0' });
  const absent = await keyWith({ sharp: '0.35.5', [JPEG_TURBO_PACKAGE]: 'absent' });
  const newSharp = await keyWith({ sharp: '0.36.0', [JPEG_TURBO_PACKAGE]: '2.3.0' });
  assert.equal(new Set([installed.key, absent.key, newSharp.key]).size, 3);
  assert.equal((await keyWith({ sharp: '0.35.5', [JPEG_TURBO_PACKAGE]: '2.3.0' })).key, installed.key, 'stable');
  const record = { version: 1 as const, stage: 'count:engine', key: installed.key, parts: installed.parts, inputs: {}, outputHash: 'x', how: 'ran' as const, at: '' };
  assert.deepEqual(explainChanges(record, { parts: absent.parts, inputs: {} }), [
    'engine fingerprint changed: /decoders/@julusian~1jpeg-turbo "2.3.0" -> "absent"',
  ]);
});
