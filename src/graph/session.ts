// Everything one pipeline command shares: where artifacts live, the store, the hash memo, the
// run records and the key environment. Plans and executions are built on a Session.
import { join, resolve } from 'node:path';
import type { Graph } from './define.ts';
import { HashMemo } from './hash.ts';
import { KeyEnv } from './key.ts';
import { RunRecords } from './runs.ts';
import { Store } from './store.ts';

export interface ArtifactPaths {
  /** The clone's local state: <root>/artifacts unless --artifacts-dir or RSB_ARTIFACTS_DIR says otherwise. */
  artifacts: string;
  /** The store: <artifacts>/cache unless --cache-dir or RSB_CACHE_DIR says otherwise. */
  cache: string;
  /** Last-run records (what --explain compares against): local, never shared. */
  runs: string;
  /** Resumable scratch folders of stages in flight. */
  work: string;
  memo: string;
}

export interface ArtifactLocations {
  /** Where the store lives (shareable between clones and machines). */
  cacheDir?: string;
  /**
   * Where this clone's local state lives (run records, scratch, hash memo; and the store when
   * no cacheDir is given). Lets a read-only checkout, a CI job or a test keep all of it
   * elsewhere without touching <root>/artifacts.
   */
  artifactsDir?: string;
}

export function artifactPaths(root: string, where: ArtifactLocations | string = {}): ArtifactPaths {
  const loc: ArtifactLocations = typeof where === 'string' ? { cacheDir: where } : where;
  const artifacts = loc.artifactsDir ? resolve(loc.artifactsDir) : join(root, 'artifacts');
  return {
    artifacts,
    cache: loc.cacheDir ? resolve(loc.cacheDir) : join(artifacts, 'cache'),
    runs: join(artifacts, 'runs'),
    work: join(artifacts, 'work'),
    memo: join(artifacts, 'hash-memo.json'),
  };
}

/** The default engine fingerprint provider: loaded only when a stage declares it, and never loads tfjs. */
async function defaultEngine(): Promise<unknown> {
  const m = await import('../engine/fingerprint.ts');
  return m.engineFingerprint('auto');
}

export class Session {
  readonly store: Store;
  readonly memo: HashMemo;
  readonly records: RunRecords;
  readonly keys: KeyEnv;

  constructor(
    readonly graph: Graph,
    readonly paths: ArtifactPaths,
    engine: () => Promise<unknown> = defaultEngine,
  ) {
    this.store = new Store(paths.cache);
    this.memo = new HashMemo(paths.memo);
    this.records = new RunRecords(paths.runs);
    this.keys = new KeyEnv(graph.root, this.memo, engine);
  }

  workDir(key: string): string {
    return join(this.paths.work, key);
  }

  /** The given stages and all their ancestors, in graph order. */
  closure(ids: readonly string[]): string[] {
    const want = new Set<string>();
    const add = (id: string) => {
      if (want.has(id)) return;
      want.add(id);
      for (const u of this.graph.stages.get(id)!.upstream) add(u);
    };
    ids.forEach(add);
    return this.graph.order.filter((id) => want.has(id));
  }

  close(): void {
    this.memo.save();
  }
}
