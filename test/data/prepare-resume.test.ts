// A prepare killed with SIGKILL midway reruns without redoing its finished shards, and ends
// with exactly the output of an uninterrupted run. Runs the real stage script with --context.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateSyntheticDataset } from '../../src/data/synthetic.ts';
import { prepare } from '../../src/data/prepare.ts';
import { tempDir, snapshot } from './helpers.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));
const SHARD = 2;

function doneShards(work: string): string[] {
  const d = join(work, 'shards');
  return existsSync(d) ? readdirSync(d).filter((n) => n.endsWith('.json')) : [];
}

function runStage(ctxFile: string, killWhen?: (stop: () => void) => void): Promise<{ code: number | null; signal: string | null; stderr: string; stdout: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'stages/prepare.ts', '--context', ctxFile, '--concurrency', '1'], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    let stdout = '';
    child.stdout.on('data', (b) => (stdout += b));
    child.stderr.on('data', (b) => (stderr += b));
    child.on('error', reject);
    child.on('exit', (code, signal) => resolve({ code, signal, stderr, stdout }));
    killWhen?.(() => child.kill('SIGKILL'));
  });
}

test('prepare killed with SIGKILL resumes without redoing finished shards', { timeout: 60_000 }, async () => {
  const { dir, cleanup } = tempDir('resume');
  try {
    const data = join(dir, 'data');
    await generateSyntheticDataset(data, { classes: 4, trainPerClass: 50, valPerClass: 5, minSide: 32, maxSide: 48 });
    const work = join(dir, 'work');
    const ctx = (out: string) => {
      const file = join(dir, `ctx-${out}.json`);
      mkdirSync(join(dir, out), { recursive: true });
      writeFileSync(file, JSON.stringify({
        stage: 'prepare:embedded', key: 'test', params: { samplesPerShard: SHARD },
        outDir: join(dir, out), workDir: work, upstream: {}, inputs: { data }, devices: [],
      }));
      return file;
    };

    // First run: killed as soon as a few shards are published.
    const first = await runStage(ctx('out1'), (stop) => {
      const t = setInterval(() => {
        if (doneShards(work).length >= 3) {
          clearInterval(t);
          stop();
        }
      }, 5);
    });
    assert.equal(first.signal, 'SIGKILL', `the run should have been killed, not finished (${first.stderr})`);
    assert.ok(!existsSync(join(dir, 'out1/dataset.json')), 'a killed run publishes nothing');
    const done = doneShards(work);
    const total = (200 + 20) / SHARD;
    assert.ok(done.length >= 3 && done.length < total, `${done.length} of ${total} shards done at the kill`);
    const before = new Map(
      done.flatMap((j) => [j, j.replace('.json', '.tar')]).map((f) => {
        const s = statSync(join(work, 'shards', f));
        return [f, `${s.ino}/${s.mtimeMs}`];
      }),
    );

    // Second run, same work folder, fresh output folder (as the orchestrator does).
    const second = await runStage(ctx('out2'));
    assert.equal(second.code, 0, second.stderr);
    assert.match(second.stdout, new RegExp(`shards built ${total - done.length}, reused ${done.length};`));
    // Finished shards were moved (same inode), not rewritten (same mtime).
    for (const [f, id] of before) {
      const s = statSync(join(dir, 'out2/shards', f));
      assert.equal(`${s.ino}/${s.mtimeMs}`, id, `${f} was redone`);
    }

    // Equal to an uninterrupted run, file for file, report.json included (it holds no timings).
    await prepare({ dataDir: data, outDir: join(dir, 'ref'), samplesPerShard: SHARD });
    const got = snapshot(join(dir, 'out2'));
    const want = snapshot(join(dir, 'ref'));
    assert.deepEqual([...got.keys()], [...want.keys()]);
    for (const [k, v] of want) assert.ok(v.equals(got.get(k)!), `${k} differs from the uninterrupted run`);
  } finally {
    cleanup();
  }
});
