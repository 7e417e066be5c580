// The optimizer factory: a recipe's optimizer section + the model's named variables ->
// LAMB, SGD or AdamW with timm's parameter groups. Types and the state schema live in
// optimizer-base.ts (re-exported here), so callers import this one module.
import { groupParams, type NamedParam, type Optimizer, type OptimizerSettings } from './optimizer-base.ts';
import { Lamb } from './lamb.ts';
import { Sgd } from './sgd.ts';
import { AdamW } from './adamw.ts';

export * from './optimizer-base.ts';
export { Lamb, Sgd, AdamW };

/** Builds the recipe's optimizer over the model's trainable variables. */
export function createOptimizer(settings: OptimizerSettings, params: readonly NamedParam[]): Optimizer {
  const groups = groupParams(params, settings.weightDecay, settings.weightDecayExempt);
  switch (settings.name) {
    case 'lamb':
      return new Lamb(groups, { betas: settings.betas, eps: settings.eps, maxGradNorm: settings.maxGradNorm });
    case 'sgd':
      return new Sgd(groups, { momentum: settings.momentum, nesterov: settings.nesterov });
    case 'adamw':
      return new AdamW(groups, { betas: settings.betas, eps: settings.eps });
  }
}
