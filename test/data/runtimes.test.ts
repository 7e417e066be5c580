// The loader's worker threads start under Node (through the tsx bootstrap) and under Deno (a
// .ts worker URL), and both give the same bytes as the in-thread loader.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateSyntheticDataset } from '../../src/data/synthetic.ts';
import { prepare } from '../../src/data/prepare.ts';
import { tempDir } from './helpers.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));
const script = 'test/data/fixtures/loader-hash.ts';

function run(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { cwd: root, encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 0, `${cmd} ${args.join(' ')} failed:\n${r.stderr}`);
  return r.stdout.trim();
}

test('loader workers under Node and Deno give the in-thread bytes', { timeout: 120_000 }, async () => {
  const { dir, cleanup } = tempDir('runtimes');
  try {
    await generateSyntheticDataset(join(dir, 'data'), { classes: 3, trainPerClass: 4, valPerClass: 2, minSide: 32, maxSide: 48 });
    const ds = join(dir, 'ds');
    await prepare({ dataDir: join(dir, 'data'), outDir: ds });
    const inThread = run(process.execPath, ['--import', 'tsx', script, ds, '0']);
    assert.match(inThread, /^[0-9a-f]{64}$/);
    assert.equal(run(process.execPath, ['--import', 'tsx', script, ds, '2']), inThread, 'node, 2 workers');
    const deno = join(root, 'node_modules', '.bin', 'deno');
    assert.ok(existsSync(deno), 'deno (a devDependency) is not installed in node_modules/.bin');
    assert.equal(run(deno, ['run', '-A', script, ds, '2']), inThread, 'deno, 2 workers');
  } finally {
    cleanup();
  }
});
