// Validation of recipe objects with errors that name where the recipe came from and
// every offending field, so a bad edit in a recipe file is found without a debugger.
import { Value } from '@sinclair/typebox/value';
import { Recipe } from './schema.ts';

export class RecipeError extends Error {
  constructor(source: string, problems: string[]) {
    super(`${source}: invalid recipe:\n  ${problems.join('\n  ')}`);
    this.name = 'RecipeError';
  }
}

/** Returns the value typed as Recipe, or throws a RecipeError naming `source` and each problem. */
export function validateRecipe(value: unknown, source = 'recipe'): Recipe {
  if (Value.Check(Recipe, value)) return value;
  const problems = [...Value.Errors(Recipe, value)]
    .slice(0, 20)
    .map((e) => `${e.path || '/'}: ${e.message}${e.value === undefined ? '' : ` (got ${JSON.stringify(e.value)})`}`);
  throw new RecipeError(source, problems);
}
