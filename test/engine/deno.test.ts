// The engine under Deno (the entry points must run there too): backend choice with the wasm
// binaries located through setWasmPaths, our kernels registered, one kernel computing right.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));

test('deno: selectBackend(auto) falls through to wasm with a notice, and our filter-gradient kernel runs', () => {
  // The probe goes in through stdin with the repository as working directory, so Deno resolves
  // the npm packages from this project (a script file elsewhere would get no node_modules).
  const backend = pathToFileURL(join(root, 'src/engine/backend.ts')).href;
  const script = `
    import { selectBackend } from ${JSON.stringify(backend)};
    const notices: string[] = [];
    const sel = await selectBackend('auto', { log: (l: string) => notices.push(l) });
    const tf = await import('@tensorflow/tfjs-core');
    const x = tf.ones([1, 4, 4, 2]);
    const dy = tf.ones([1, 4, 4, 3]);
    const dw = tf.engine().runKernel('Conv2DBackpropFilter', { x, dy },
      { strides: 1, pad: 'same', dataFormat: 'NHWC', dimRoundingMode: undefined, filterShape: [3, 3, 2, 3] });
    console.log(JSON.stringify({ name: sel.name, notices, values: Array.from(await dw.data()) }));
  `;
  const deno = join(root, 'node_modules', '.bin', process.platform === 'win32' ? 'deno.cmd' : 'deno');
  const r = spawnSync(deno, ['run', '-A', '--ext=ts', '-'], { cwd: root, input: script, encoding: 'utf8', timeout: 120_000 });
  assert.equal(r.status, 0, `deno failed: ${r.stderr}`);
  const out = JSON.parse(r.stdout.trim().split('\n').pop() as string) as { name: string; notices: string[]; values: number[] };
  if (out.name !== 'tensorflow') {
    assert.equal(out.name, 'wasm');
    assert.equal(out.notices.length, 1);
    assert.match(out.notices[0], /native TensorFlow unavailable/);
  }
  // All-ones input and gradient with 'same' padding on 4x4: each tap sees as many positions as
  // the output rows/cols it overlaps: corner taps 3x3 = 9, edge taps 3x4 = 12, the centre 16.
  const taps = [9, 12, 9, 12, 16, 12, 9, 12, 9];
  assert.deepEqual(out.values, taps.flatMap((v) => new Array(6).fill(v)));
});
