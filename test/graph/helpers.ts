// A throw-away clone of the repository for graph tests: pipeline.ts, package.json, the graph
// and CLI sources and the fixtures, copied into a temp folder with node_modules linked, so a
// test can edit scripts, modules, params and inputs freely and can run two clones side by side.
import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { pathToFileURL } from 'node:url';

export const repoRoot = new URL('../..', import.meta.url).pathname.replace(/\/$/, '');

const COPIED = ['pipeline.ts', 'package.json', 'deno.json', 'src/graph', 'src/cli', 'src/engine', 'test/fixtures'];

export interface RunResult {
  code: number;
  out: string;
  err: string;
}

export class Clone {
  readonly dir: string;
  readonly trace: string;

  constructor(label = 'clone') {
    this.dir = mkdtempSync(join(tmpdir(), `rsb-graph-${label}-`));
    for (const p of COPIED) cpSync(join(repoRoot, p), join(this.dir, p), { recursive: true });
    symlinkSync(join(repoRoot, 'node_modules'), join(this.dir, 'node_modules'), 'dir');
    this.trace = join(this.dir, 'trace.log');
  }

  path(p: string): string {
    return join(this.dir, p);
  }

  read(p: string): string {
    return readFileSync(this.path(p), 'utf8');
  }

  write(p: string, text: string): void {
    writeFileSync(this.path(p), text);
  }

  append(p: string, text: string): void {
    this.write(p, this.read(p) + text);
  }

  /** Lines of the fixture trace ("start|end <stage> <ms> <pid> <devices>"), then cleared. */
  takeTrace(): { what: string; stage: string; t: number; pid: number; devices: string }[] {
    if (!existsSync(this.trace)) return [];
    const lines = readFileSync(this.trace, 'utf8').trim().split('\n').filter(Boolean);
    rmSync(this.trace);
    return lines.map((l) => {
      const [what, stage, t, pid, devices] = l.split(' ');
      return { what, stage, t: Number(t), pid: Number(pid), devices };
    });
  }

  /** Stages that started since the last takeTrace(). */
  started(): string[] {
    return this.takeTrace()
      .filter((e) => e.what === 'start')
      .map((e) => e.stage)
      .sort();
  }

  env(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
    const env: NodeJS.ProcessEnv = { ...process.env };
    delete env.RSB_CACHE_DIR;
    delete env.RSB_ARTIFACTS_DIR;
    return { ...env, RSB_FIXTURE_TRACE: this.trace, ...extra };
  }

  /**
   * Runs pipeline.ts's main() of THIS clone in-process (saves a runtime start per call; stage
   * scripts still run as child processes). `env` is what the stages see.
   */
  async main(args: string[], extraEnv: Record<string, string> = {}): Promise<RunResult> {
    const { main } = await import(pathToFileURL(this.path('src/cli/main.ts')).href);
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    let out = '';
    let err = '';
    stdout.on('data', (c) => (out += c));
    stderr.on('data', (c) => (err += c));
    const env = this.env(extraEnv);
    // Stage children inherit process.env: set the test hooks there for the duration of the call.
    const saved = { ...process.env };
    Object.assign(process.env, env);
    if (!('RSB_CACHE_DIR' in extraEnv)) delete process.env.RSB_CACHE_DIR;
    if (!('RSB_ARTIFACTS_DIR' in extraEnv)) delete process.env.RSB_ARTIFACTS_DIR;
    try {
      const code = await main(args, { stdout, stderr, cwd: this.dir, env, defaultGraph: this.path('src/pipeline/definition.ts') });
      return { code, out, err };
    } finally {
      for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
      Object.assign(process.env, saved);
    }
  }

  /** Starts pipeline.ts as a real process (node + tsx) in its own process group. */
  spawn(args: string[], extraEnv: Record<string, string> = {}, runtime: 'node' | 'deno' = 'node'): ChildProcess & { done: Promise<RunResult> } {
    const argv =
      runtime === 'node'
        ? [process.execPath, '--import', 'tsx', 'pipeline.ts', ...args]
        : [join(repoRoot, 'node_modules/.bin/deno'), 'run', '-A', 'pipeline.ts', ...args];
    const child = spawn(argv[0], argv.slice(1), { cwd: this.dir, env: this.env(extraEnv), detached: true });
    let out = '';
    let err = '';
    child.stdout!.on('data', (c) => (out += c));
    child.stderr!.on('data', (c) => (err += c));
    const done = new Promise<RunResult>((resolve) => child.on('close', (code) => resolve({ code: code ?? -1, out, err })));
    return Object.assign(child, { done });
  }

  run(args: string[], extraEnv: Record<string, string> = {}, runtime: 'node' | 'deno' = 'node'): Promise<RunResult> {
    return this.spawn(args, extraEnv, runtime).done;
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export const BASIC = ['--graph', 'test/fixtures/basic/graph.ts'];

/** --dry-run --json plan: stage id -> state. */
export async function planStates(c: Clone, extra: string[] = []): Promise<Record<string, string>> {
  const r = await c.main([...BASIC, '--dry-run', '--json', ...extra]);
  if (r.code !== 0) throw new Error(`dry run failed: ${r.err}`);
  const plan = JSON.parse(r.out) as { stages: { id: string; state: string }[] };
  return Object.fromEntries(plan.stages.map((s) => [s.id, s.state]));
}

/** Polls until `cond` holds (or fails after `ms`). */
export async function waitFor(cond: () => boolean, ms = 20_000, what = 'condition'): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Cache entry folders (64-hex names) of a store. */
export function entries(storeDir: string): string[] {
  if (!existsSync(storeDir)) return [];
  return readdirSync(storeDir).filter((n) => /^[0-9a-f]{64}$/.test(n));
}

/** The key of a stage's last run, from its record. */
export function recordKey(c: Clone, stage: string): string {
  return JSON.parse(c.read(`artifacts/runs/${encodeURIComponent(stage)}.json`)).key;
}
