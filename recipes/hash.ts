// Recipe identity: sha256 of the canonical JSON of the validated object.
// Canonical = object keys sorted at every level, no whitespace, numbers as JSON writes them;
// so the hash changes exactly when a value changes, never when a file is reformatted or
// its fields are reordered.
import { createHash } from 'node:crypto';
import type { Recipe } from './schema.ts';

/** Deterministic JSON: sorted keys, no undefined members, non-finite numbers rejected. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value === 'boolean' || typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new Error(`canonicalJson: non-finite number ${value}`);
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  throw new Error(`canonicalJson: cannot encode a ${typeof value}`);
}

/** Hex sha256 of the recipe's canonical JSON. Pass a validated recipe. */
export function recipeHash(recipe: Recipe): string {
  return createHash('sha256').update(canonicalJson(recipe)).digest('hex');
}
