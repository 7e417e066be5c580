// The recipe registry and helpers: every runnable procedure by id. Plain data, no tfjs, so
// that pipeline.ts can import it and start fast.
export type { Recipe } from './schema.ts';
export { Recipe as RecipeSchema } from './schema.ts';
export { recipeHash, canonicalJson } from './hash.ts';
export { deriveRecipe, derive, withOverrides, type RecipePatch } from './derive.ts';
export { validateRecipe, RecipeError } from './validate.ts';
export { a1 } from './a1.ts';
export { a2 } from './a2.ts';
export { a3 } from './a3.ts';
export { resnetOriginal90ep } from './resnet-original-90ep.ts';
export { torchvision90ep } from './torchvision-90ep.ts';
export { recipes, rsbRecipeIds, getRecipe, totalEpochs } from './registry.ts';
export { loadRecipe } from './load.ts';
