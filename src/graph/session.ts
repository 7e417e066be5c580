// Everything one pipeline command shares: where artifacts live, the store, the hash memo, the
// run records and the key environment. Plans and executions are built on a Session.
import { join, resolve } from 'node:path';
import type { Graph } from './define.ts';
import { HashMemo } from './hash.ts';
import { KeyEnv } from './key.ts';
import { RunRecords } from './runs.ts';
import { Store } from './store.ts';

export interface ArtifactPaths {
  /** <root>/artifacts: local to the clone. */
  artifacts: string;
  /** The store: <root>/artifacts/cache unless --cache-dir or RSB_CACHE_DIR says otherwise. */
  cache: string;
  runs: string;
  work: string;
  memo: string;
}

export function artifactPaths(root: string, cacheDir?: string): ArtifactPaths {
  const artifacts = join(root, 'artifacts');
  return {
    artifacts,
    cache: cacheDir ? resolve(cacheDir) : join(artifacts, 'cache'),
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
