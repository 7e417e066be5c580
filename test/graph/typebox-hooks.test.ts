// src/cli/typebox-cjs-hooks.mjs: under Node, pipeline.ts serves TypeBox from its CommonJS build
// through a small ES module facade (start-up cost; see docs/architecture.md). The facade must
// export exactly what the package exports, for every entry point, whether its export-name cache
// is cold or warm.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { after, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { join } from 'node:path';
import { repoRoot } from './helpers.ts';

const ENTRIES = ['@sinclair/typebox', '@sinclair/typebox/compiler', '@sinclair/typebox/value', '@sinclair/typebox/errors', '@sinclair/typebox/system'];

// Runs in a fresh Node (no tsx): registers the hooks, imports each entry, and compares its
// names with what require() gives, plus a schema built by one checked by the other.
const probe = `
import { register, createRequire } from 'node:module';
register(${JSON.stringify(pathToFileURL(join(repoRoot, 'src/cli/typebox-cjs-hooks.mjs')).href)});
const require = createRequire(${JSON.stringify(pathToFileURL(join(repoRoot, 'package.json')).href)});
const out = {};
for (const spec of ${JSON.stringify(ENTRIES)}) {
  const ns = await import(spec);
  out[spec] = {
    esm: Object.keys(ns).filter((k) => k !== 'default').sort(),
    cjs: Object.keys(require(spec)).sort(),
    url: import.meta.resolve(spec),
    sameDefault: ns.default === require(spec),
  };
}
const { Type, Kind } = await import('@sinclair/typebox');
const { TypeCompiler } = require('@sinclair/typebox/compiler');
const check = TypeCompiler.Compile(Type.Object({ n: Type.Integer({ minimum: 1 }) }));
out.checks = [check.Check({ n: 2 }), check.Check({ n: 0 })];
out.kind = Kind === Symbol.for('TypeBox.Kind');
console.log(JSON.stringify(out));
`;

const tmp = mkdtempSync(join(tmpdir(), 'rsb-typebox-hooks-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
const CACHE = join(tmp, 'typebox-exports.json');

function runProbe(): Record<string, { esm: string[]; cjs: string[]; url: string; sameDefault: boolean }> & { checks: boolean[]; kind: boolean } {
  const env = { ...process.env, RSB_TYPEBOX_EXPORTS_CACHE: CACHE };
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', probe], { cwd: repoRoot, encoding: 'utf8', env });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout);
}

test('the TypeBox facade exports exactly the CommonJS build\'s names, cache cold, warm or stale', () => {
  for (const round of ['cold', 'warm', 'stale']) {
    if (round === 'cold') rmSync(CACHE, { force: true });
    if (round === 'stale') {
      // An entry file that changed since the names were cached (another stamp): names reread.
      const cache = JSON.parse(readFileSync(CACHE, 'utf8'));
      for (const k of Object.keys(cache)) cache[k] = { stamp: '0:0', names: ['Bogus'] };
      writeFileSync(CACHE, JSON.stringify(cache));
    }
    const out = runProbe();
    if (round === 'cold') assert.ok(existsSync(CACHE), 'the names were cached');
    for (const spec of ENTRIES) {
      const e = out[spec];
      assert.ok(e.esm.length > 0, `${spec} exports something (${round} run)`);
      assert.deepEqual(e.esm, e.cjs, `${spec}: same names as require() (${round} run)`);
      assert.ok(e.sameDefault, `${spec}: the default export is the CommonJS module itself`);
    }
    assert.deepEqual(out.checks, [true, false], 'a schema from the facade checks under the CommonJS compiler');
    assert.equal(out.kind, true);
  }
});
