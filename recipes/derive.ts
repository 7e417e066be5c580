// Deriving a recipe from another one: `deriveRecipe(a2, { epochs: 50 })`.
// The patch is deep-merged (objects merge key by key; arrays, tuples and scalars replace),
// the result is validated, and because the hash is taken over the resulting object the
// derived recipe gets its own hash and its own cache entries automatically.
import type { Recipe } from './schema.ts';
import { validateRecipe } from './validate.ts';

/** A partial recipe: any field at any depth may be left out. */
export type RecipePatch = DeepPartial<Recipe>;
type DeepPartial<T> = T extends readonly unknown[]
  ? T
  : T extends object
    ? { [K in keyof T]?: DeepPartial<T[K]> }
    : T;

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function merge(base: unknown, patch: unknown): unknown {
  if (!isPlainObject(base) || !isPlainObject(patch)) return structuredClone(patch);
  // A union member switch (e.g. optimizer lamb -> sgd) must not inherit the old member's
  // keys: when `kind`/`name` changes, the patch replaces the object wholesale.
  for (const tag of ['kind', 'name'] as const) {
    if (tag in patch && tag in base && patch[tag] !== base[tag]) return structuredClone(patch);
  }
  const out: Record<string, unknown> = structuredClone(base);
  for (const [k, v] of Object.entries(patch)) {
    if (v === undefined) continue;
    out[k] = k in out ? merge(out[k], v) : structuredClone(v);
  }
  return out;
}

/** base with patch applied; validated. Keeps base's id and records no lineage. */
export function withOverrides(base: Recipe, patch: RecipePatch, source = `overrides of ${base.id}`): Recipe {
  return validateRecipe(merge(base, patch), source);
}

/**
 * A user-facing derived recipe. Its id defaults to `<base>-derived` and `derivedFrom`
 * records the base, so reports say where the procedure came from.
 */
export function deriveRecipe(base: Recipe, patch: RecipePatch): Recipe {
  const id = patch.id ?? `${base.id}-derived`;
  return withOverrides(base, { ...patch, id, derivedFrom: patch.derivedFrom ?? base.id }, `deriveRecipe(${base.id} -> ${id})`);
}

/** Short alias, so scripts read `derive(a2, { epochs: 50 })`. */
export const derive = deriveRecipe;
