// pipeline.ts's body: parse the command line, load the graph, then plan, explain or run.
//
// Exit codes: 0 success; 1 a stage failed (or was blocked by a failure); 2 bad input (unknown
// target, invalid params, missing input, bad flags); 130 interrupted.
import { CommanderError } from 'commander';
import { existsSync } from 'node:fs';
import { isAbsolute, relative, resolve } from 'node:path';
import process from 'node:process';
import { pathToFileURL } from 'node:url';
// The graph API that graph modules import (defineGraph, the stage schemas, TypeBox's compiler and
// value modules) belongs to the orchestrator: it loads with it, at start-up, and `--timing`'s
// graph time covers the graph module itself and the work on the graph.
import { isGraph, type Graph, type GraphBuildOptions, type GraphModule } from '../graph/index.ts';
import { DevicePool, deviceIds } from '../graph/devices.ts';
import { GraphError } from '../graph/errors.ts';
import { execute } from '../graph/execute.ts';
import { makePlan, planAsData, type ForceSet, type PlanEntry } from '../graph/plan.ts';
import type { Reporter } from '../graph/report.ts';
import { currentRuntime } from '../graph/runtime.ts';
import { artifactPaths, Session, type ArtifactLocations } from '../graph/session.ts';
import { didYouMean } from '../graph/suggest.ts';
import { buildProgram, type Invocation, type RunFlags } from './options.ts';
import { LiveView, PlainView } from './view.ts';

export interface MainIo {
  stdout: NodeJS.WritableStream & { isTTY?: boolean };
  stderr: NodeJS.WritableStream;
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** The graph module used without --graph (src/pipeline/definition.ts next to pipeline.ts). */
  defaultGraph: string;
}

async function loadGraph(flags: RunFlags, io: MainIo): Promise<Graph> {
  const file = flags.graph ? (isAbsolute(flags.graph) ? flags.graph : resolve(io.cwd, flags.graph)) : io.defaultGraph;
  if (!existsSync(file)) throw new GraphError(`graph module ${file} not found`);
  let mod: Partial<GraphModule>;
  try {
    mod = await import(pathToFileURL(file).href);
  } catch (e) {
    if (e instanceof GraphError) throw e;
    throw new GraphError(`graph module ${file} failed to load: ${(e as Error).message}`);
  }
  if (typeof mod.buildGraph !== 'function') throw new GraphError(`graph module ${file} does not export buildGraph(opts)`);
  const vars: Record<string, string> = {};
  for (const s of flags.set ?? []) {
    const i = s.indexOf('=');
    if (i <= 0) throw new GraphError(`--set ${s}: expected name=value`);
    vars[s.slice(0, i)] = s.slice(i + 1);
  }
  // --data and --backend are the common switches of the real graph, spelled as flags.
  if (flags.data !== undefined) vars.data = flags.data;
  if (flags.backend !== undefined) vars.backend = flags.backend;
  const opts: GraphBuildOptions = {
    profile: flags.profile,
    devices: devicesCount(flags, io.env),
    deviceKind: flags.deviceKind,
    vars,
  };
  const graph = await mod.buildGraph(opts);
  if (!isGraph(graph)) throw new GraphError(`graph module ${file}: buildGraph() must return the result of defineGraph()`);
  return graph;
}

/** --devices, else for GPUs the length of CUDA_VISIBLE_DEVICES, else one CPU slot. */
function devicesCount(flags: RunFlags, env: NodeJS.ProcessEnv): number {
  if (flags.devices !== undefined) return flags.devices;
  if (flags.deviceKind === 'gpu') return env.CUDA_VISIBLE_DEVICES ? env.CUDA_VISIBLE_DEVICES.split(',').filter(Boolean).length : 0;
  return 1;
}

function checkId(graph: Graph, id: string, what: string): string {
  if (graph.stages.has(id)) return id;
  const known = [...graph.stages.keys()];
  const list = known.length > 30 ? `${known.slice(0, 30).join(', ')}, ... (${known.length} in all)` : known.join(', ');
  throw new GraphError(`unknown ${what} '${id}'${didYouMean(id, known)}. Known stages: ${list}`);
}

function describePlan(plan: ReadonlyMap<string, PlanEntry>, out: (s: string) => void): void {
  const width = Math.max(...[...plan.keys()].map((k) => k.length));
  for (const p of plan.values()) {
    const label = p.state === 'run' ? 'would run' : p.state === 'pending' ? 'pending  ' : 'cached   ';
    out(`${label}  ${p.id.padEnd(width)}${p.reasons.length ? `  ${p.reasons.join('; ')}` : ''}\n`);
  }
  const n = (s: string) => [...plan.values()].filter((p) => p.state === s).length;
  out(`${n('run')} to run, ${n('pending')} pending on them, ${n('cached')} cached\n`);
}

function explainStage(id: string, plan: ReadonlyMap<string, PlanEntry>, out: (s: string) => void): void {
  const p = plan.get(id)!;
  if (p.state === 'cached') {
    out(`${id} is up to date: cached as ${p.key!.slice(0, 16)}${p.reasons.length ? ` (${p.reasons.join('; ')})` : ''}\n`);
    return;
  }
  if (p.state === 'run') {
    out(`${id} is stale and will run:\n${p.reasons.map((r) => `  - ${r}\n`).join('')}`);
    return;
  }
  out(`${id} waits on upstream stages that will run; it reruns only if their outputs change:\n`);
  for (const q of plan.values()) {
    if (q.state === 'run') out(`  ${q.id} will run:\n${q.reasons.map((r) => `    - ${r}\n`).join('')}`);
  }
}

/** --cache-dir / RSB_CACHE_DIR and --artifacts-dir / RSB_ARTIFACTS_DIR, flags first. */
function locations(flags: RunFlags, env: NodeJS.ProcessEnv): ArtifactLocations {
  return {
    cacheDir: flags.cacheDir ?? (env.RSB_CACHE_DIR || undefined),
    artifactsDir: flags.artifactsDir ?? (env.RSB_ARTIFACTS_DIR || undefined),
  };
}

async function runCommand(graph: Graph, flags: RunFlags, io: MainIo): Promise<number> {
  const out = (s: string) => void io.stdout.write(s);
  const session = new Session(graph, artifactPaths(graph.root, locations(flags, io.env)));
  try {
    const targets = (flags.target?.length ? flags.target : [...graph.defaultTargets]).map((t) => checkId(graph, t, 'target'));
    const forced = flags.force ?? [];
    const force: ForceSet = forced.includes('all') ? 'all' : new Set(forced.map((f) => checkId(graph, f, '--force stage')));
    if (flags.explain !== undefined) {
      const id = checkId(graph, flags.explain, '--explain stage');
      explainStage(id, await makePlan(session, session.closure([id]), force), out);
      return 0;
    }
    if (flags.dryRun) {
      const ids = flags.only ? session.closure([checkId(graph, flags.only, '--only stage')]) : session.closure(targets);
      const plan = await makePlan(session, ids, force);
      if (flags.json) out(`${JSON.stringify({ targets: flags.only ? [flags.only] : targets, stages: planAsData(plan) }, null, 1)}\n`);
      else describePlan(plan, out);
      return 0;
    }
    let ids: string[];
    let given: Map<string, { key: string; outputHash: string }> | undefined;
    if (flags.only !== undefined) {
      const id = checkId(graph, flags.only, '--only stage');
      const ups = graph.stages.get(id)!.upstream;
      const plan = await makePlan(session, session.closure(ups), new Set());
      given = new Map();
      for (const u of ups) {
        const p = plan.get(u)!;
        if (p.state !== 'cached') {
          throw new GraphError(
            `--only ${id}: upstream ${u} has no cached output for its current inputs (${p.reasons.join('; ')}). ` +
              `Build it first: --target ${u}`,
          );
        }
        given.set(u, { key: p.key!, outputHash: p.outputHash! });
      }
      ids = [id];
    } else ids = session.closure(targets);

    // Missing external inputs are bad input, named before anything runs (not a stage failure later).
    for (const id of ids) {
      for (const [name, p] of Object.entries(graph.stages.get(id)!.inputs)) {
        if (!existsSync(isAbsolute(p) ? p : resolve(graph.root, p))) {
          throw new GraphError(`stage ${id}: external input '${name}' not found: ${p}`);
        }
      }
    }
    const pool = new DevicePool(deviceIds(devicesCount(flags, io.env), flags.deviceKind, io.env));
    for (const id of ids) {
      const need = graph.stages.get(id)!.devices;
      if (need > pool.size) {
        throw new GraphError(`stage ${id} needs ${need} device(s) but only ${pool.size} are available (--devices)`);
      }
    }
    // A terminal that reports no width (some pseudo-terminals) cannot hold a redrawn block.
    const live = io.stdout.isTTY && ((io.stdout as { columns?: number }).columns ?? 0) > 0 && !flags.plain;
    const reporter: Reporter = live ? await LiveView.create(io.stdout) : new PlainView(io.stdout);
    const abort = new AbortController();
    const onSignal = (sig: NodeJS.Signals) => {
      reporter.note(`${sig}: stopping the running stages`);
      abort.abort();
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    try {
      const outcomes = await execute(session, {
        ids,
        given,
        force,
        jobs: flags.jobs,
        devices: pool,
        deviceKind: flags.deviceKind,
        runtime: currentRuntime(),
        reporter,
        signal: abort.signal,
      });
      reporter.finish();
      if (abort.signal.aborted) return 130;
      const bad = outcomes.filter((o) => o.status === 'failed' || o.status === 'blocked');
      if (bad.length) {
        io.stderr.write(`pipeline: ${bad.map((b) => `${b.id} ${b.status}`).join(', ')}\n`);
        return 1;
      }
      // Where the results are: entries are content-addressed, so say which folder holds each target's.
      for (const id of flags.only !== undefined ? [flags.only] : targets) {
        const o = outcomes.find((x) => x.id === id);
        if (o?.key) out(`== outputs of ${id}: ${relative(io.cwd, session.store.outDir(o.key)) || '.'}\n`);
      }
      return 0;
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
  } finally {
    session.close();
  }
}

/** CPU time (user + system) of this process so far, in ms; NaN where the runtime cannot tell. */
function cpuMs(): number {
  try {
    const { user, system } = process.cpuUsage();
    return (user + system) / 1000;
  } catch {
    return Number.NaN;
  }
}

/** Runs the command line `argv` (without the program name); resolves to the exit code. */
export async function main(argv: string[], io: MainIo): Promise<number> {
  // performance.now() counts from process start: what came before this line is the runtime's
  // start-up and the loading of the orchestrator's modules; what follows is the graph's own work.
  const entered = performance.now();
  const cpuAtEntry = cpuMs();
  let loaded = entered;
  let code = 0;
  const write = { out: (s: string) => void io.stdout.write(s), err: (s: string) => void io.stderr.write(s) };
  const program = buildProgram(async (inv: Invocation) => {
    const graph = await loadGraph(inv.flags, io);
    loaded = performance.now();
    const where = locations(inv.flags, io.env);
    if (inv.command === 'run') {
      code = await runCommand(graph, inv.flags, io);
      return;
    }
    // The subcommands' bodies are loaded only when one is used: the common path (a run) skips them.
    const { gc, graphDiagram, listStages, statusTable } = await import('./commands.ts');
    switch (inv.command) {
      case 'list':
        write.out(listStages(graph));
        break;
      case 'graph':
        write.out(graphDiagram(graph, inv.format));
        break;
      case 'status': {
        const session = new Session(graph, artifactPaths(graph.root, where));
        try {
          write.out(await statusTable(session));
        } finally {
          session.close();
        }
        break;
      }
      case 'gc': {
        const session = new Session(graph, artifactPaths(graph.root, where));
        write.out(await gc(session, { dryRun: inv.dryRun, work: inv.work }));
        break;
      }
    }
  }, write);
  try {
    await program.parseAsync(argv, { from: 'user' });
    if (program.opts<RunFlags>().timing) {
      const now = performance.now();
      const t = {
        startupMs: Math.round(entered),
        graphMs: Math.round(now - entered),
        buildMs: Math.round(loaded - entered), // loading the graph module and defineGraph
        workMs: Math.round(now - loaded), // keys, cache checks, runs, records
        // CPU time of this process (all its threads) since main(): steadier than wall time on a busy machine.
        graphCpuMs: Math.round(cpuMs() - cpuAtEntry),
      };
      io.stderr.write(`timing: ${JSON.stringify(t)}\n`);
    }
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : 2;
    if (e instanceof GraphError) {
      io.stderr.write(`pipeline: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
  return code;
}
