// defineGraph: turns a graph module's plain declarations into a checked Graph.
//
// All structural problems are found here, before anything runs, and reported in words that
// name the stage and the problem: duplicate ids, unknown upstream ids (with a did-you-mean),
// cycles (naming every stage on the cycle), params that fail their schema (naming the JSON
// path and the expected type) and scripts that do not exist.
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { Value } from '@sinclair/typebox/value';
import { existsSync } from 'node:fs';
import { isAbsolute, normalize, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { StageDecl, type Stage } from './stage.ts';
import { GraphError } from './errors.ts';
import { didYouMean } from './suggest.ts';

export interface GraphSpec {
  /** Folder that script and input paths are relative to (a path, or a file: URL such as `new URL('../..', import.meta.url)`). */
  root: string | URL;
  stages: StageDecl[];
  /** Targets built when the command line names none (e.g. the final report). Default: every sink stage. */
  defaultTargets?: string[];
}

export interface Graph {
  /** Absolute path of the graph root. Never enters a cache key. */
  readonly root: string;
  readonly stages: ReadonlyMap<string, Stage>;
  /** Every stage id, upstream before downstream (stable: declaration order breaks ties). */
  readonly order: readonly string[];
  readonly defaultTargets: readonly string[];
  /** Direct dependents of each stage. */
  readonly downstream: ReadonlyMap<string, readonly string[]>;
}

/** What pipeline.ts passes to a graph module's `buildGraph(opts)`. */
export interface GraphBuildOptions {
  /** `--profile NAME` (e.g. a small smoke profile); undefined for the default. */
  profile?: string;
  /** `--devices N`: devices available to this run. */
  devices: number;
  /** `--device-kind gpu|cpu`. */
  deviceKind: 'gpu' | 'cpu';
  /** `--set name=value` pairs, for graph-specific switches. */
  vars: Readonly<Record<string, string>>;
}

/** The shape of a graph module (src/pipeline/definition.ts, or a fixture passed with --graph). */
export interface GraphModule {
  buildGraph(opts: GraphBuildOptions): Graph | Promise<Graph>;
}

const DeclCheck = TypeCompiler.Compile(StageDecl);

function rootPath(root: string | URL): string {
  if (root instanceof URL) return fileURLToPath(root);
  if (root.startsWith('file:')) return fileURLToPath(root);
  return resolve(root);
}

/** Normalises a root-relative path to forward slashes without `./`; rejects escapes from the root. */
function relPath(stage: string, what: string, p: string): string {
  if (isAbsolute(p)) throw new GraphError(`stage ${stage}: ${what} '${p}' must be relative to the graph root`);
  const n = normalize(p).replace(/\\/g, '/');
  if (n.startsWith('../') || n === '..') throw new GraphError(`stage ${stage}: ${what} '${p}' leaves the graph root`);
  return n;
}

/** Validates params against the stage's schema, applying defaults; errors name path and expected type. */
function checkParams(decl: StageDecl): unknown {
  const schema = decl.paramsSchema;
  if (!schema) {
    const p = decl.params;
    if (p === undefined || (typeof p === 'object' && p !== null && Object.keys(p).length === 0)) return {};
    throw new GraphError(`stage ${decl.id}: params given but no paramsSchema declared`);
  }
  const value = Value.Default(schema, structuredClone(decl.params ?? {}));
  if (!Value.Check(schema, value)) {
    const lines = [...Value.Errors(schema, value)].slice(0, 5).map((e) => {
      const got = e.value === undefined ? 'nothing' : `${typeof e.value} ${JSON.stringify(e.value)}`;
      const expected = describeSchema(e.schema as Parameters<typeof describeSchema>[0]);
      return `  params${e.path || '/'}: ${expected ? `expected ${expected}` : e.message}, got ${got}`;
    });
    throw new GraphError(`stage ${decl.id}: params do not match the schema\n${lines.join('\n')}`);
  }
  return value;
}

function describeSchema(s: { type?: unknown; const?: unknown; anyOf?: unknown[]; enum?: unknown[] }): string {
  if (s.const !== undefined) return JSON.stringify(s.const);
  if (Array.isArray(s.anyOf)) return s.anyOf.map((x) => describeSchema(x as typeof s)).filter(Boolean).join(' | ');
  if (Array.isArray(s.enum)) return s.enum.map((x) => JSON.stringify(x)).join(' | ');
  if (typeof s.type === 'string') return s.type;
  if (Array.isArray(s.type)) return s.type.join(' | ');
  return '';
}

/** Finds one cycle among the given stages and returns it as a closed path `a -> b -> a`. */
function findCycle(ids: string[], deps: Map<string, string[]>): string[] | undefined {
  const state = new Map<string, 1 | 2>(); // 1: on the stack, 2: done
  const stack: string[] = [];
  const visit = (id: string): string[] | undefined => {
    state.set(id, 1);
    stack.push(id);
    for (const d of deps.get(id) ?? []) {
      if (state.get(d) === 1) return [...stack.slice(stack.indexOf(d)), d];
      if (!state.has(d)) {
        const c = visit(d);
        if (c) return c;
      }
    }
    stack.pop();
    state.set(id, 2);
    return undefined;
  };
  for (const id of ids) {
    if (!state.has(id)) {
      const c = visit(id);
      if (c) return c;
    }
  }
  return undefined;
}

export function defineGraph(spec: GraphSpec): Graph {
  const root = rootPath(spec.root);
  const stages = new Map<string, Stage>();
  const scriptFound = new Map<string, boolean>(); // many stages share one script: look it up once
  for (const [i, decl] of spec.stages.entries()) {
    if (!DeclCheck.Check(decl)) {
      const e = [...DeclCheck.Errors(decl)][0];
      const name = (decl as { id?: unknown })?.id;
      throw new GraphError(
        `stage ${typeof name === 'string' ? name : `#${i}`}: invalid declaration at ${e?.path || '/'}: ${e?.message}`,
      );
    }
    if (stages.has(decl.id)) throw new GraphError(`stage ${decl.id} is declared twice`);
    const script = relPath(decl.id, 'script', decl.script);
    let found = scriptFound.get(script);
    if (found === undefined) scriptFound.set(script, (found = existsSync(resolve(root, script))));
    if (!found) {
      throw new GraphError(`stage ${decl.id}: script ${script} not found under ${root}`);
    }
    const inputs: Record<string, string> = {};
    for (const [name, p] of Object.entries(decl.inputs ?? {})) {
      inputs[name] = isAbsolute(p) ? normalize(p) : relPath(decl.id, `input ${name}`, p);
    }
    stages.set(decl.id, {
      id: decl.id,
      script,
      description: decl.description ?? '',
      paramsSchema: decl.paramsSchema,
      params: checkParams(decl),
      upstream: [...new Set(decl.upstream ?? [])],
      inputs,
      outputs: (decl.outputs ?? []).map((o) => relPath(decl.id, 'output', o)),
      devices: decl.resources?.devices ?? 0,
      fingerprint: decl.fingerprint,
      paramModules: (decl.paramModules ?? []).map((m) => relPath(decl.id, 'param module', m)),
    });
  }
  const ids = [...stages.keys()];
  for (const s of stages.values()) {
    for (const u of s.upstream) {
      if (!stages.has(u)) {
        throw new GraphError(`stage ${s.id}: unknown upstream stage '${u}'${didYouMean(u, ids)}`);
      }
    }
  }
  const deps = new Map(ids.map((id) => [id, [...stages.get(id)!.upstream]]));
  const cycle = findCycle(ids, deps);
  if (cycle) throw new GraphError(`the graph has a cycle (each stage needs the next): ${cycle.join(' -> ')}`);

  // Topological order by repeated passes in declaration order: stable and easy to predict.
  const order: string[] = [];
  const placed = new Set<string>();
  while (order.length < ids.length) {
    for (const id of ids) {
      if (!placed.has(id) && deps.get(id)!.every((d) => placed.has(d))) {
        placed.add(id);
        order.push(id);
      }
    }
  }
  const downstream = new Map<string, string[]>(ids.map((id) => [id, []]));
  for (const id of order) for (const u of deps.get(id)!) downstream.get(u)!.push(id);

  const defaultTargets = spec.defaultTargets ?? order.filter((id) => downstream.get(id)!.length === 0);
  for (const t of defaultTargets) {
    if (!stages.has(t)) throw new GraphError(`default target '${t}' is not a stage${didYouMean(t, ids)}`);
  }
  return { root, stages, order, defaultTargets, downstream };
}

/**
 * Whether a graph module's `buildGraph()` returned something shaped like defineGraph's result
 * (a structural check: a graph module may import another copy of this file, e.g. in a clone).
 */
export function isGraph(value: unknown): value is Graph {
  const g = value as Partial<Graph> | null;
  return (
    typeof g === 'object' && g !== null && typeof g.root === 'string' && g.stages instanceof Map &&
    Array.isArray(g.order) && Array.isArray(g.defaultTargets) && g.downstream instanceof Map
  );
}
