// Runs every case file under a folder through its op adapter.
import { readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { readCase } from './format.ts';
import { loadOp } from './registry.ts';
import type { Check } from './compare.ts';

export interface CaseResult {
  file: string;
  op: string;
  case: string;
  ok: boolean;
  checks: Check[];
  error?: string;
}

export function listCaseFiles(path: string): string[] {
  const abs = resolve(path);
  if (statSync(abs).isFile()) return [abs];
  const out: string[] = [];
  (function walk(dir: string) {
    for (const name of readdirSync(dir).sort()) {
      const p = join(dir, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (name.endsWith('.json') && name !== 'index.json') out.push(p);
    }
  })(abs);
  return out;
}

/** The golden set root: the nearest folder at or above `path` holding index.json, else the folder. */
function findRoot(path: string): string {
  let dir = statSync(path).isFile() ? dirname(path) : path;
  for (let d = dir; ; d = dirname(d)) {
    try {
      if (statSync(join(d, 'index.json')).isFile()) return d;
    } catch { /* keep looking */ }
    if (dirname(d) === d) return dir;
  }
}

export async function runCase(file: string, rootDir: string, backend: string): Promise<CaseResult> {
  let op = '?', name = relative(rootDir, file);
  try {
    const c = readCase(file);
    op = c.op;
    name = c.case;
    const runner = await loadOp(c.op);
    if (!runner) return { file, op, case: name, ok: false, checks: [], error: `unknown op '${c.op}' (no adapter in src/conformance/ops)` };
    const checks = await runner(c, { caseDir: dirname(file), rootDir, backend });
    if (checks.length === 0) return { file, op, case: name, ok: false, checks, error: 'adapter made no checks' };
    return { file, op, case: name, ok: checks.every((k) => k.ok), checks };
  } catch (e) {
    return { file, op, case: name, ok: false, checks: [], error: (e as Error).stack ?? String(e) };
  }
}

export async function* runFolder(path: string, opts: { backend?: string; ops?: string[] } = {}): AsyncGenerator<CaseResult> {
  const abs = resolve(path);
  const root = findRoot(abs);
  for (const file of listCaseFiles(abs)) {
    if (opts.ops?.length) {
      const op = relative(root, file).split(/[\\/]/)[0];
      if (!opts.ops.includes(op)) continue;
    }
    yield await runCase(file, root, opts.backend ?? 'cpu');
  }
}
