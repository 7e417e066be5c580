// End to end through the orchestrator, on the test-sized profile:
//   pipeline.ts --target eval:a1 (tiny dataset, tiny ResNet, 3 epochs) is killed with
//   SIGKILL (whole process group) during epoch 2; the rerun resumes from the start of
//   epoch 2 and its final metrics and weights equal an uninterrupted run's (same seed);
//   eval prints top-1/top-5; the exported model.safetensors imported with --weights scores
//   the same; a third run is a no-op.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, existsSync, rmSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { train } from '../../src/train/loop.ts';
import { getProfile } from '../../src/pipeline/profiles.ts';
import { getRecipe } from '../../recipes/index.ts';
import { readEpochs, readEvalMetrics } from '../../src/train/metrics.ts';
import { runEvaluation } from '../../src/train/eval-job.ts';
import { loadCheckpoint } from '../../src/train/checkpoint.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));
const tsx = join(root, 'node_modules', 'tsx', 'dist', 'cli.mjs');
const quiet = { update() {}, log() {}, done() {} };

/** Every published output folder of the store holding `file`. */
function outputsWith(cache: string, file: string): string[] {
  return readdirSync(cache)
    .map((k) => join(cache, k, 'out'))
    .filter((d) => existsSync(join(d, file)));
}

/** Runs the pipeline; with `killAt`, SIGKILLs its process group when a line matches. */
function runPipeline(args: string[], killAt?: RegExp): Promise<{ code: number | null; signal: string | null; out: string }> {
  return runScript([tsx, 'pipeline.ts', ...args], killAt, 'SIGKILL');
}

/** Runs node with `argv`; with `killAt`, sends `signal` to its process group when the output matches. */
function runScript(argv: string[], killAt?: RegExp, signal: NodeJS.Signals = 'SIGKILL'): Promise<{ code: number | null; signal: string | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, argv, {
      cwd: root, detached: true, stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, RSB_PROGRESS_EVERY: '0', CI: '1' },
    });
    let out = '';
    let killed = false;
    const onData = (d: Buffer) => {
      out += d.toString();
      if (killAt && !killed && killAt.test(out)) {
        killed = true;
        process.kill(-child.pid!, signal);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('close', (code, signal) => resolve({ code, signal, out }));
  });
}

test('pipeline eval:a1 survives kill -9 in epoch 2 and matches an uninterrupted run', { timeout: 300_000 }, async () => {
  const tmp = mkdtempSync(join(os.tmpdir(), 'rsb-e2e-'));
  // All of the orchestrator's state (store, run records, scratch) in the temporary folder:
  // the test leaves the developer's artifacts/ as it found it.
  const cache = join(tmp, 'cache');
  const args = ['--target', 'eval:a1', '--profile', 'tiny', '--set', 'backend=wasm', '--artifacts-dir', tmp, '--plain'];
  try {
    const first = await runPipeline(args, /\[train:a1\] epoch 2\/3 step 1\/3/);
    assert.equal(first.signal, 'SIGKILL', first.out.slice(-2000));
    assert.ok(first.out.includes('[train:a1] epoch 1/3: loss'), 'epoch 1 completed before the kill');
    assert.deepEqual(outputsWith(cache, 'run.json'), [], 'a killed train stage publishes nothing');

    const second = await runPipeline(args);
    assert.equal(second.code, 0, second.out.slice(-3000));
    assert.match(second.out, /resuming from .*checkpoint\.bin: epoch 2, update 0 of 3/);
    assert.match(second.out, /eval a1: top-1 \d+\.\d+ %, top-5 \d+\.\d+ %/);

    // The uninterrupted reference, in this process, on the dataset the pipeline prepared.
    const [prepared] = outputsWith(cache, 'dataset.json');
    const [trained] = outputsWith(cache, 'model.ckpt');
    const ref = join(tmp, 'ref');
    await train({
      stage: 'train:a1', recipe: getRecipe('a1'), profile: getProfile('tiny'), dataDir: prepared, outDir: ref,
      workDir: join(ref, '.work'), devices: 1, backend: 'wasm', progress: quiet, log: () => {},
    });
    const strip = (file: string) => readEpochs(file).map(({ imagesPerSec, elapsed, ...rest }) => rest);
    const resumed = strip(join(trained, 'metrics.jsonl'));
    assert.equal(resumed.length, 3);
    assert.deepEqual(resumed, strip(join(ref, 'metrics.jsonl')), 'per-epoch loss, LR, top-1 and counts equal the uninterrupted run');
    const a = loadCheckpoint(join(trained, 'model.ckpt'))!, b = loadCheckpoint(join(ref, 'model.ckpt'))!;
    for (const [name, t] of a.tensors) assert.deepEqual(t.data, b.tensors.get(name)!.data, `weights ${name}`);

    // SIGTERM mid-epoch (a stage script run by hand): checkpoint after the update in flight,
    // exit 130; the rerun continues from that update and ends where the uninterrupted run did.
    const byHand = join(tmp, 'by-hand');
    const handArgs = ['--import', 'tsx', 'stages/train.ts', '--data', prepared, '--recipe', 'a1', '--profile', 'tiny', '--backend', 'wasm', '--out', byHand];
    const stopped = await runScript(handArgs, /epoch 2\/3 step 1\/3/, 'SIGTERM');
    assert.equal(stopped.code, 130, stopped.out.slice(-2000));
    assert.match(stopped.out, /SIGTERM: checkpointing after the current update/);
    // The same checkpoint under another training decoder or worker count is another run's
    // (other pixels; per-worker BatchNorm statistics): a copy of the folder starts afresh.
    for (const other of [['--decoder', 'exact'], ['--devices', '2']]) {
      const copy = join(tmp, `by-hand-${other[0].slice(2)}`);
      cpSync(byHand, copy, { recursive: true });
      const argv = [...handArgs.slice(0, -1), copy, ...other];
      const fresh = await runScript(argv, /starting afresh|resuming from/, 'SIGKILL');
      assert.match(fresh.out, /belongs to another run .*: starting afresh/, `${other.join(' ')}: ${fresh.out.slice(-2000)}`);
    }
    const resumedByHand = await runScript(handArgs);
    assert.equal(resumedByHand.code, 0, resumedByHand.out.slice(-2000));
    // Where it stops depends on when the signal lands; any update boundary must resume exactly.
    assert.match(resumedByHand.out, /resuming from .*checkpoint\.bin: epoch [23], update [0-2] of 3/);
    assert.deepEqual(strip(join(byHand, 'metrics.jsonl')), strip(join(ref, 'metrics.jsonl')));

    // The exported timm-layout weights, imported with --weights, score exactly like the checkpoint.
    const [evaluated] = outputsWith(cache, 'metrics.json');
    const viaWeights = await runEvaluation({
      recipe: getRecipe('a1'), profile: getProfile('tiny'), backend: 'wasm', dataDir: prepared, outDir: join(tmp, 'w'),
      weights: join(trained, 'model.safetensors'), arch: 'resnet_tiny', split: 'val',
    });
    const fromStage = readEvalMetrics(join(evaluated, 'metrics.json'));
    assert.equal(fromStage.source, 'checkpoint');
    assert.equal(viaWeights.source, 'weights');
    assert.deepEqual([viaWeights.top1, viaWeights.top5, viaWeights.perClass], [fromStage.top1, fromStage.top5, fromStage.perClass]);
    assert.equal(fromStage.count, 16);

    // Everything cached now: the same command only reports.
    const t0 = performance.now();
    const third = spawnSync(process.execPath, [tsx, 'pipeline.ts', ...args], { cwd: root, encoding: 'utf8' });
    assert.equal(third.status, 0, third.stderr);
    assert.doesNotMatch(third.stdout + third.stderr, /\[train:a1\]|\[eval:a1\]/, 'no stage ran');
    console.log(`no-op rerun: ${((performance.now() - t0) / 1000).toFixed(2)} s`);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});
