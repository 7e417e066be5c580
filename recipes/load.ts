// Loading a recipe named on a command line: a registry id ("a2"), a JSON file, or a
// TypeScript/JavaScript module whose default export (or single exported recipe) is a recipe,
// e.g. a file holding `export default derive(a2, { epochs: 50 })`.
// Every failure names the file (or id) and the problem.
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Recipe } from './schema.ts';
import { validateRecipe } from './validate.ts';
import { getRecipe, recipes } from './registry.ts';

export async function loadRecipe(spec: string): Promise<Recipe> {
  if (recipes[spec]) return recipes[spec];
  const looksLikeFile = /[\\/]|\.(json|ts|mts|js|mjs)$/.test(spec);
  if (!looksLikeFile) return getRecipe(spec); // throws with the list of known ids
  const file = resolve(spec);
  if (!existsSync(file)) throw new Error(`${spec}: no such recipe file`);
  if (file.endsWith('.json')) {
    let raw: unknown;
    try {
      raw = JSON.parse(readFileSync(file, 'utf8'));
    } catch (e) {
      throw new Error(`${spec}: not readable JSON (${(e as Error).message})`);
    }
    return validateRecipe(raw, spec);
  }
  const mod = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  if (mod.default !== undefined) return validateRecipe(mod.default, `${spec} (default export)`);
  const candidates = Object.entries(mod).filter(([, v]) => v && typeof v === 'object' && 'id' in (v as object) && 'optimizer' in (v as object));
  if (candidates.length !== 1) {
    throw new Error(`${spec}: export the recipe as default (found ${candidates.length} recipe-like exports${candidates.length ? `: ${candidates.map(([k]) => k).join(', ')}` : ''})`);
  }
  return validateRecipe(candidates[0][1], `${spec} (export ${candidates[0][0]})`);
}
