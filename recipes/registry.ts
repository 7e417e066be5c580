// The recipe registry: every runnable procedure by id (see index.ts for the public surface).
import type { Recipe } from './schema.ts';
import { a1 } from './a1.ts';
import { a2 } from './a2.ts';
import { a3 } from './a3.ts';
import { resnetOriginal90ep } from './resnet-original-90ep.ts';
import { torchvision90ep } from './torchvision-90ep.ts';

/** All recipes keyed by id: the RSB procedures first, then the earlier ones they are compared with. */
export const recipes: Readonly<Record<string, Recipe>> = Object.freeze(
  Object.fromEntries([a1, a2, a3, resnetOriginal90ep, torchvision90ep].map((r) => [r.id, r])),
);

/** Recipe ids of the RSB paper procedures (the rest are earlier baselines). */
export const rsbRecipeIds = ['a1', 'a2', 'a3'] as const;

/** Looks a recipe up by id; the error lists the known ids. */
export function getRecipe(id: string): Recipe {
  const r = recipes[id];
  if (!r) throw new Error(`unknown recipe '${id}' (known: ${Object.keys(recipes).join(', ')})`);
  return r;
}

/** Epochs a training run actually takes: the schedule length plus cooldown epochs. */
export function totalEpochs(r: Recipe): number {
  return r.epochs + r.schedule.cooldownEpochs;
}
