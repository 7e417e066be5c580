// Op adapters live one per file in ./ops/<op>.ts, named exactly like the golden folder.
// Each exports `run(c, ctx)` returning named checks. Discovery by file name keeps this
// registry free of edits when an op is added.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { GoldenCase } from './format.ts';
import type { Check } from './compare.ts';

export interface OpContext {
  /** Folder that holds the case file (weights files are resolved against it). */
  caseDir: string;
  /** The golden set's root folder (the one holding <op>/ folders). */
  rootDir: string;
  /** Compute backend for ops that run tfjs: 'cpu' or 'wasm'. */
  backend: string;
}

export type OpRunner = (c: GoldenCase, ctx: OpContext) => Promise<Check[]> | Check[];

const cache = new Map<string, OpRunner | null>();

export async function loadOp(op: string): Promise<OpRunner | null> {
  if (!/^[a-z0-9_]+$/.test(op)) return null;
  if (cache.has(op)) return cache.get(op)!;
  const url = new URL(`./ops/${op}.ts`, import.meta.url);
  let runner: OpRunner | null = null;
  if (existsSync(fileURLToPath(url))) {
    const mod = (await import(url.href)) as { run?: OpRunner };
    if (typeof mod.run !== 'function') throw new Error(`src/conformance/ops/${op}.ts exports no run()`);
    runner = mod.run;
  }
  cache.set(op, runner);
  return runner;
}
