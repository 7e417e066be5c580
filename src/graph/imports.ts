// The local modules a stage script depends on, found by reading source text (never by loading
// the modules: loading would run them, and would drag tfjs into the orchestrator).
//
// Every relative specifier in `import ... from '...'`, `export ... from '...'`, `import '...'`
// and `import('...')` with a literal string is followed, transitively. Bare specifiers
// (packages, node: builtins) are not: installed packages enter keys through the engine
// fingerprint where numerics depend on them. A specifier found inside a comment or a string is
// followed too; that can only add a dependency (a spurious rerun), never hide one.
import { readFileSync, statSync } from 'node:fs';
import { dirname, relative, resolve, sep } from 'node:path';

const SPECIFIER = /(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)(['"])(\.{1,2}\/[^'"\n]*)\1/g;
const SOURCE_EXT = /\.(?:[cm]?[jt]sx?)$/;

/** Relative specifiers written in a source text, in order of appearance. */
export function relativeSpecifiers(source: string): string[] {
  const out: string[] = [];
  for (const m of source.matchAll(SPECIFIER)) out.push(m[2]);
  return out;
}

function isFile(p: string): boolean {
  try {
    return statSync(p).isFile();
  } catch {
    return false;
  }
}

/**
 * Resolves a relative specifier the way tsx/Deno/TypeScript would for our sources: the exact
 * file; a `.js` specifier standing for a `.ts` file; a missing extension; a folder's index.
 */
export function resolveLocal(fromFile: string, spec: string): string | undefined {
  const base = resolve(dirname(fromFile), spec.split('?')[0]);
  const candidates = [base];
  const js = base.match(/^(.*)\.([cm]?)js(x?)$/);
  if (js) candidates.push(`${js[1]}.${js[2]}ts${js[3]}`);
  for (const ext of ['.ts', '.tsx', '.mts', '.js', '.mjs']) candidates.push(base + ext);
  for (const ext of ['.ts', '.js']) candidates.push(`${base}/index${ext}`);
  return candidates.find(isFile);
}

/**
 * Every local module `script` imports, transitively (not the script itself), as absolute paths
 * sorted by path. Non-source files that are imported (JSON, WASM) are included but not scanned.
 * @param cache shared across stages of one run: most stages share most modules.
 * @param skip absolute paths neither included nor followed (a stage's param modules).
 */
export function localImports(script: string, cache = new Map<string, string[]>(), skip: ReadonlySet<string> = new Set()): string[] {
  const seen = new Set<string>([script]);
  const queue = [script];
  while (queue.length) {
    const file = queue.pop()!;
    if (!SOURCE_EXT.test(file)) continue;
    let direct = cache.get(file);
    if (!direct) {
      const src = readFileSync(file, 'utf8');
      direct = [];
      for (const spec of relativeSpecifiers(src)) {
        const r = resolveLocal(file, spec);
        if (r) direct.push(r);
      }
      cache.set(file, direct);
    }
    for (const d of direct) {
      if (!seen.has(d) && !skip.has(d)) {
        seen.add(d);
        queue.push(d);
      }
    }
  }
  seen.delete(script);
  return [...seen].sort();
}

/** A path relative to the root with forward slashes, for keys and messages. */
export function rootRelative(root: string, abs: string): string {
  return relative(root, abs).split(sep).join('/');
}
