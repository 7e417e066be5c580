// The cache key of a stage run (design.md, "The cache key").
//
// key = sha256(canonical JSON of KeyParts). KeyParts holds only content hashes and values:
// root-relative paths of the script and its modules (the same in every clone), never absolute
// paths, mtimes or host names, so a store restored elsewhere still hits. Upstream stages enter
// by the hash of their published OUTPUT, not by their key: when an upstream reruns and writes
// the same bytes, its dependents keep their keys (early cutoff).
import { Type, type Static } from '@sinclair/typebox';
import { readFileSync, statSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { canonicalJson, sha256Hex } from './canonical.ts';
import { GraphError } from './errors.ts';
import { combineFiles, hashFolder, type HashMemo } from './hash.ts';
import { localImports, rootRelative } from './imports.ts';
import type { Stage } from './stage.ts';

export const KeyParts = Type.Object({
  version: Type.Literal(1),
  stage: Type.String(),
  script: Type.Object({ path: Type.String(), sha256: Type.String() }),
  /** Root-relative path -> sha256 of every local module the script imports, transitively. */
  modules: Type.Record(Type.String(), Type.String()),
  /** The validated params (defaults applied). */
  params: Type.Unknown(),
  /** Upstream stage id -> hash of its published outputs. */
  upstream: Type.Record(Type.String(), Type.String()),
  /** External input name -> content hash (a file's sha256, or a folder's combined hash). */
  inputs: Type.Record(Type.String(), Type.String()),
  /** Engine fingerprint, for stages that declare `fingerprint: 'engine'`. */
  engine: Type.Optional(Type.Unknown()),
});
export type KeyParts = Static<typeof KeyParts>;

/** What was hashed for each external input: kept in the run record to explain changes, never keyed. */
export const InputDetail = Type.Object({
  path: Type.String(),
  kind: Type.Union([Type.Literal('file'), Type.Literal('folder')]),
  /** For folders of moderate size: relative file path -> sha256, to name the file that changed. */
  files: Type.Optional(Type.Record(Type.String(), Type.String())),
  count: Type.Optional(Type.Number()),
});
export type InputDetail = Static<typeof InputDetail>;

/** Folders with more files than this keep only their combined hash in the run record. */
const DETAIL_LIMIT = 20000;

/** Per-run state shared by every key computation of one pipeline command. */
export class KeyEnv {
  private sourceHashes = new Map<string, string>();
  private importCache = new Map<string, string[]>();
  /** Script + param modules -> the `modules` part of the key: most stages share a script. */
  private moduleParts = new Map<string, Readonly<Record<string, string>>>();
  private inputCache = new Map<string, Promise<{ hash: string; detail: InputDetail }>>();
  private engineValue: Promise<unknown> | undefined;

  constructor(
    readonly root: string,
    readonly memo: HashMemo,
    /** Provides the engine fingerprint; loaded lazily, only when a stage declares it. */
    private readonly engineProvider: () => Promise<unknown>,
  ) {}

  /** sha256 of a source file (scripts and modules are small: read whole, once per command). */
  sourceHash(abs: string): string {
    let h = this.sourceHashes.get(abs);
    if (!h) {
      h = sha256Hex(readFileSync(abs));
      this.sourceHashes.set(abs, h);
    }
    return h;
  }

  engine(): Promise<unknown> {
    this.engineValue ??= this.engineProvider();
    return this.engineValue;
  }

  /** Content hash of an external input (file or folder), memoised per command. */
  input(stage: string, name: string, path: string): Promise<{ hash: string; detail: InputDetail }> {
    const abs = isAbsolute(path) ? path : resolve(this.root, path);
    let p = this.inputCache.get(abs);
    if (!p) {
      p = this.hashInput(stage, name, path, abs);
      this.inputCache.set(abs, p);
    }
    return p;
  }

  private async hashInput(stage: string, name: string, path: string, abs: string) {
    let st;
    try {
      st = statSync(abs);
    } catch {
      throw new GraphError(`stage ${stage}: external input '${name}' not found: ${path}`);
    }
    if (st.isDirectory()) {
      const files = await hashFolder(abs, this.memo);
      const detail: InputDetail = { path, kind: 'folder', count: files.length };
      if (files.length <= DETAIL_LIMIT) detail.files = Object.fromEntries(files.map((f) => [f.path, f.sha256]));
      return { hash: combineFiles(files), detail };
    }
    const { sha256 } = await this.memo.hashFile(abs, st);
    return { hash: sha256, detail: { path, kind: 'file' as const } };
  }

  modules(scriptAbs: string, skip: readonly string[] = []): string[] {
    return localImports(scriptAbs, this.importCache, new Set(skip));
  }

  /**
   * Root-relative path -> sha256 of every local module a script imports (param modules left
   * out), computed once per command for each distinct script and param-module list. Frozen:
   * stages sharing a script share this object.
   */
  moduleHashes(script: string, paramModules: readonly string[]): Readonly<Record<string, string>> {
    const id = [script, ...paramModules].join('\0');
    let parts = this.moduleParts.get(id);
    if (!parts) {
      const skip = paramModules.map((m) => resolve(this.root, m));
      const hashes: Record<string, string> = {};
      for (const m of this.modules(resolve(this.root, script), skip)) hashes[rootRelative(this.root, m)] = this.sourceHash(m);
      parts = Object.freeze(hashes);
      this.moduleParts.set(id, parts);
    }
    return parts;
  }
}

export interface StageKey {
  key: string;
  parts: KeyParts;
  inputs: Record<string, InputDetail>;
}

/**
 * The key of a stage, given the output hashes of its upstream stages.
 * @throws GraphError naming the path when an external input is missing.
 */
export async function stageKey(stage: Stage, env: KeyEnv, upstreamOutputs: Readonly<Record<string, string>>): Promise<StageKey> {
  const scriptAbs = resolve(env.root, stage.script);
  const modules = env.moduleHashes(stage.script, stage.paramModules);
  const upstream: Record<string, string> = {};
  for (const u of stage.upstream) {
    const h = upstreamOutputs[u];
    if (h === undefined) throw new Error(`internal: key of ${stage.id} asked before upstream ${u} was resolved`);
    upstream[u] = h;
  }
  const inputs: Record<string, string> = {};
  const details: Record<string, InputDetail> = {};
  for (const [name, path] of Object.entries(stage.inputs)) {
    const { hash, detail } = await env.input(stage.id, name, path);
    inputs[name] = hash;
    details[name] = detail;
  }
  const parts: KeyParts = {
    version: 1,
    stage: stage.id,
    script: { path: stage.script, sha256: env.sourceHash(scriptAbs) },
    modules,
    params: stage.params,
    upstream,
    inputs,
  };
  if (stage.fingerprint === 'engine') parts.engine = await env.engine();
  return { key: sha256Hex(canonicalJson(parts)), parts, inputs: details };
}
