// Parameter schemas of the train, evaluate and compare stages: the contract between
// src/pipeline/definition.ts (which fills them in) and the stage scripts (which validate
// them again, because a stage also runs by hand). Plain typebox, no tfjs.
//
// The recipe and the profile travel as whole objects, not as names: the cache key is built
// from the validated params, so editing one field of recipes/a1.ts, or one rule of a
// profile, makes exactly the dependent stages stale.
import { Type, type Static } from '@sinclair/typebox';
import { Recipe } from '../../recipes/schema.ts';
import { Profile } from './profiles.ts';
import { BackendChoice } from '../engine/fingerprint.ts';
import { DecoderName } from '../data/transforms/options.ts';

export const TrainParams = Type.Object({
  recipe: Recipe,
  profile: Profile,
  backend: BackendChoice,
  /** Data-parallel workers (the pipeline's --devices; part of the key because BN statistics are per worker); 0 = one per handed device. */
  workers: Type.Integer({ minimum: 0, default: 0 }),
  /** JPEG decoder of the training transform (`--set decoder=exact|fast`; evaluation always decodes exactly). */
  decoder: DecoderName,
});
export type TrainParams = Static<typeof TrainParams>;

export const EvalParams = Type.Object({
  recipe: Recipe,
  profile: Profile,
  backend: BackendChoice,
});
export type EvalParams = Static<typeof EvalParams>;

export const CompareParams = Type.Object({
  /** Recipe ids in report order; each has upstream stages train:<id> and eval:<id>. */
  recipes: Type.Array(Type.String(), { minItems: 1 }),
  /** How the report names the dataset (e.g. 'embedded synthetic, 10 classes'). */
  dataset: Type.String(),
});
export type CompareParams = Static<typeof CompareParams>;
