// Runs a set of stages: upstream first, independent ones in parallel up to --jobs, each under
// its key's lock, publishing each success atomically.
//
// Per stage: wait for upstream results; compute the key from their OUTPUT hashes; reuse a
// verified entry; otherwise take the key's lock (another pipeline may be producing it: then we
// wait and reuse its entry), take devices and a job slot, run the script in a child process,
// check its declared outputs, publish. A failure marks every dependent 'blocked' while
// independent stages go on; nothing is published for a failed stage.
//
// The modules only a stage that RUNS needs (locks, child processes, job slots) are imported on
// first use: a no-op rerun, where every stage is a verified cache hit, never loads them (each
// module costs start-up time under Node's loader hooks).
import { mkdirSync, renameSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import type { StageContext } from './context.ts';
import type { DevicePool } from './devices.ts';
import { explainChanges } from './explain.ts';
import type { HeldLock } from './lock.ts';
import { isForced, type ForceSet } from './plan.ts';
import { stageKey, type StageKey } from './key.ts';
import type { Reporter } from './report.ts';
import type { Runtime } from './runtime.ts';
import type { Session } from './session.ts';
import type { Manifest } from './store.ts';
import { recordFileName } from './runs.ts';

export interface ExecuteOptions {
  /** Stages to execute, in graph order. Their upstream must be among them or in `given`. */
  ids: readonly string[];
  /** Upstream results taken as they are (for --only): id -> published entry key. */
  given?: ReadonlyMap<string, { key: string; outputHash: string }>;
  force: ForceSet;
  jobs: number;
  devices: DevicePool;
  deviceKind: 'gpu' | 'cpu';
  runtime: Runtime;
  reporter: Reporter;
  signal: AbortSignal;
}

export interface StageOutcome {
  id: string;
  status: 'cached' | 'done' | 'failed' | 'blocked';
  key?: string;
  outputHash?: string;
  error?: string;
}

type Ok = { ok: true; key: string; outputHash: string };
type NotOk = { ok: false };

export async function execute(session: Session, o: ExecuteOptions): Promise<StageOutcome[]> {
  const { graph, store } = session;
  // The --jobs slots, created by the first stage that has to run.
  let slots: Promise<<T>(fn: () => Promise<T>) => Promise<T>> | undefined;
  const limit = <T>(fn: () => Promise<T>): Promise<T> => {
    slots ??= import('p-limit').then(({ default: pLimit }) => pLimit(Math.max(1, o.jobs)));
    return slots.then((run) => run(fn));
  };
  const results = new Map<string, Promise<Ok | NotOk>>();
  const outcomes = new Map<string, StageOutcome>();
  for (const [id, g] of o.given ?? []) results.set(id, Promise.resolve({ ok: true, ...g }));
  o.reporter.start(o.ids);
  // A forced stage reuses an entry another pipeline publishes after this moment (see runStage).
  const startedAt = new Date().toISOString();

  const finish = (out: StageOutcome): Ok | NotOk => {
    outcomes.set(out.id, out);
    o.reporter.state(out.id, out.status, out.error);
    return out.status === 'cached' || out.status === 'done'
      ? { ok: true, key: out.key!, outputHash: out.outputHash! }
      : { ok: false };
  };

  const record = (id: string, k: StageKey, m: Manifest, how: 'ran' | 'reused') => {
    const prev = session.records.read(id);
    if (how === 'reused' && prev?.key === k.key && prev.outputHash === m.outputHash) return; // nothing new
    session.records.write({
      version: 1,
      stage: id,
      key: k.key,
      parts: k.parts,
      inputs: k.inputs,
      outputHash: m.outputHash,
      how,
      at: new Date().toISOString(),
      durationMs: m.durationMs,
    });
  };

  const runStage = async (id: string): Promise<Ok | NotOk> => {
    const stage = graph.stages.get(id)!;
    o.reporter.state(id, 'waiting');
    const ups = await Promise.all(stage.upstream.map((u) => results.get(u)!));
    const failed = stage.upstream.filter((_, i) => !ups[i].ok);
    if (failed.length) return finish({ id, status: 'blocked', error: `upstream ${failed.join(', ')} failed` });
    if (o.signal.aborted) return finish({ id, status: 'blocked', error: 'interrupted' });
    const outputs = Object.fromEntries(stage.upstream.map((u, i) => [u, (ups[i] as Ok).outputHash]));
    const upstreamDirs = Object.fromEntries(stage.upstream.map((u, i) => [u, store.outDir((ups[i] as Ok).key)]));
    let k: StageKey;
    try {
      k = await stageKey(stage, session.keys, outputs);
    } catch (e) {
      return finish({ id, status: 'failed', error: (e as Error).message });
    }
    const forced = isForced(o.force, id);
    if (!forced) {
      const v = await store.verify(k.key, session.memo);
      if (v.ok) {
        record(id, k, v.manifest, 'reused');
        return finish({ id, status: 'cached', key: k.key, outputHash: v.manifest.outputHash });
      }
    }
    let lock: HeldLock;
    try {
      const { acquireLock } = await import('./lock.ts');
      lock = await acquireLock(store.lockFile(k.key), {
        stage: id,
        signal: o.signal,
        onWait: (holder) => o.reporter.state(id, 'locked', `held by ${holder}`),
        onStale: (why) => o.reporter.note(`${id}: taking over a stale lock (${why})`),
      });
    } catch (e) {
      return finish({ id, status: 'failed', error: (e as Error).message });
    }
    try {
      // Another pipeline may have published while we waited for the lock. A forced stage
      // still reuses that: it was produced after our command started.
      const v = await store.verify(k.key, session.memo);
      if (v.ok && (!forced || v.manifest.createdAt > startedAt)) {
        record(id, k, v.manifest, 'reused');
        return finish({ id, status: 'cached', key: k.key, outputHash: v.manifest.outputHash });
      }
      let why: string[];
      if (forced) why = ['forced (--force)'];
      else if (!v.ok && !v.absent) why = [`its cache entry failed the manifest check (${v.problem})`];
      else why = explainChanges(session.records.read(id), k);
      o.reporter.state(id, 'queued', why.join('; '));
      let ids: string[];
      try {
        ids = await o.devices.acquire(stage.devices);
      } catch (e) {
        return finish({ id, status: 'failed', error: `${id} ${(e as Error).message}` });
      }
      try {
        return await limit(() => runAndPublish(id, k, upstreamDirs, ids, why, lock));
      } finally {
        o.devices.release(ids);
      }
    } finally {
      lock.release();
    }
  };

  const failedLog = (id: string) => join(session.paths.runs, recordFileName(id).replace(/\.json$/, '.failed.log'));

  const runAndPublish = async (
    id: string,
    k: StageKey,
    upstream: Record<string, string>,
    devices: string[],
    why: string[],
    lock: HeldLock,
  ): Promise<Ok | NotOk> => {
    const stage = graph.stages.get(id)!;
    if (o.signal.aborted) return finish({ id, status: 'blocked', error: 'interrupted' });
    const tmp = store.createTemp(k.key);
    const workDir = session.workDir(k.key);
    mkdirSync(workDir, { recursive: true });
    const context: StageContext = {
      stage: id,
      key: k.key,
      params: stage.params,
      outDir: join(tmp, 'out'),
      workDir,
      upstream,
      inputs: Object.fromEntries(
        Object.entries(stage.inputs).map(([n, p]) => [n, isAbsolute(p) ? p : resolve(graph.root, p)]),
      ),
      devices,
    };
    const contextFile = join(tmp, 'context.json');
    writeFileSync(contextFile, `${JSON.stringify(context, null, 1)}\n`);
    const argv = o.runtime.command(resolve(graph.root, stage.script), ['--context', contextFile]);
    o.reporter.state(id, 'running', devices.length ? `devices ${devices.join(',')}` : undefined);
    const { childEnv, runChild } = await import('./runner.ts');
    const t0 = performance.now();
    const res = await runChild({
      argv,
      cwd: graph.root,
      env: childEnv(id, devices, o.deviceKind),
      logFile: join(tmp, 'log.txt'),
      header: [
        `[pipeline] stage ${id} key ${k.key}`,
        `[pipeline] why: ${why.join('; ')}`,
        `[pipeline] runtime ${o.runtime.name} ${o.runtime.version}: ${stage.script}`,
        `[pipeline] devices: ${devices.length ? `${devices.join(',')} (${o.deviceKind})` : 'none'}`,
      ],
      onLine: (text, stream) => o.reporter.line(id, text, stream),
      onSpawn: (pid) => lock.setChild(pid),
      signal: o.signal,
    });
    const ms = performance.now() - t0;
    let error: string | undefined;
    if (res.code !== 0) error = res.error ?? (res.signal ? `killed by ${res.signal}` : `exit code ${res.code}`);
    else {
      const missing = stage.outputs.filter((p) => !existsSync(join(tmp, 'out', p)));
      if (missing.length) error = `did not write its declared output${missing.length > 1 ? 's' : ''} ${missing.join(', ')}`;
    }
    if (error) {
      // Nothing is published; the log is kept beside the run records for debugging.
      const kept = failedLog(id);
      try {
        mkdirSync(session.paths.runs, { recursive: true });
        renameSync(join(tmp, 'log.txt'), kept);
        error += ` (log: ${kept})`;
      } catch {
        /* the log could not be kept: the error still stands */
      }
      rmSync(tmp, { recursive: true, force: true });
      return finish({ id, status: 'failed', key: k.key, error });
    }
    rmSync(contextFile, { force: true }); // holds absolute paths; the entry must stay relocatable
    const manifest = await store.publish(tmp, k.key, id, ms, session.memo);
    rmSync(workDir, { recursive: true, force: true });
    rmSync(failedLog(id), { force: true }); // an old failure's log would only mislead now
    record(id, k, manifest, 'ran');
    return finish({ id, status: 'done', key: k.key, outputHash: manifest.outputHash });
  };

  for (const id of o.ids) {
    results.set(
      id,
      runStage(id).catch((e: Error) => finish({ id, status: 'failed', error: `internal error: ${e.stack ?? e.message}` })),
    );
  }
  await Promise.all(o.ids.map((id) => results.get(id)));
  return o.ids.map((id) => outcomes.get(id)!);
}
