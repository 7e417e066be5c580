// From (recipe, profile, dataset) to the concrete numbers of a run. Pure and tfjs-free, so
// the stage scripts, tests and the benchmark agree on what a run is before it starts.
import type { Recipe } from '../../recipes/schema.ts';
import { recipeHash } from '../../recipes/hash.ts';
import { scaleRecipe, type Profile, type ScaledRecipe } from '../pipeline/profiles.ts';
import type { ScheduleParams } from './schedule.ts';

export interface RunPlan {
  recipe: Recipe;
  profile: Profile;
  scaled: ScaledRecipe;
  /** Classifier width: the dataset's class count (1000 on ImageNet). */
  numClasses: number;
  microBatch: number;
  microBatchesPerUpdate: number;
  /** Samples one epoch yields (after the sampler's rounding), and whole updates per epoch (drop last). */
  epochSamples: number;
  updatesPerEpoch: number;
  totalEpochs: number;
  schedule: ScheduleParams;
  /** Repeated-augmentation sampler settings (null: plain shuffle). */
  repeats: number;
  /** timm keeps floor(N/256)*256 samples per epoch; small datasets keep all (see below). */
  selectedRound: number;
  /** Identity of the run: a checkpoint with another key is never resumed. */
  runKey: string;
  rules: string[];
}

export function planRun(recipe: Recipe, profile: Profile, dataset: { trainCount: number; classes: number }, seedOverride?: number): RunPlan {
  if (recipe.schedule.kind !== 'cosine' && recipe.schedule.kind !== 'step') throw new Error(`recipe ${recipe.id}: unknown schedule`);
  const scaled = scaleRecipe(
    {
      arch: recipe.model.arch, epochs: recipe.epochs, warmupEpochs: recipe.schedule.warmupEpochs, cooldownEpochs: recipe.schedule.cooldownEpochs,
      trainSize: recipe.train.resolution, testSize: recipe.eval.resolution, globalBatch: recipe.globalBatch, lr: recipe.optimizer.lr,
      warmupLr: recipe.schedule.warmupLr, minLr: recipe.schedule.kind === 'cosine' ? recipe.schedule.minLr : 0, optimizer: recipe.optimizer.name,
    },
    profile,
  );
  const rules = [...scaled.rules];
  const numClasses = dataset.classes;
  if (numClasses !== recipe.model.numClasses) rules.push(`classifier ${recipe.model.numClasses} -> ${numClasses} classes (the dataset's)`);
  const microBatch = Math.min(profile.microBatch, scaled.globalBatch);
  if (scaled.globalBatch % microBatch !== 0) throw new Error(`profile ${profile.id}: global batch ${scaled.globalBatch} is not a multiple of the micro-batch ${microBatch}`);
  if (microBatch % 2 !== 0) throw new Error(`profile ${profile.id}: micro-batch ${microBatch} must be even (mixup pairs sample i with B-1-i)`);
  const microBatchesPerUpdate = scaled.globalBatch / microBatch;
  const repeats = recipe.train.repeatedAugmentation;
  // timm's repeated-augmentation sampler rounds an epoch down to a multiple of 256 samples
  // (ImageNet: 1,281,024 of 1,281,167). On a dataset of a few hundred images that rule
  // would drop a large share of it, so below 100 x 256 images the epoch keeps all samples.
  const selectedRound = repeats > 1 && dataset.trainCount >= 25600 ? 256 : 0;
  const epochSamples = repeats > 1
    ? (selectedRound ? Math.floor(dataset.trainCount / selectedRound) * selectedRound : dataset.trainCount)
    : dataset.trainCount;
  const updatesPerEpoch = Math.floor(epochSamples / scaled.globalBatch);
  if (updatesPerEpoch < 1) throw new Error(`dataset of ${dataset.trainCount} training images gives no full global batch of ${scaled.globalBatch}`);
  const scaledRun = scaled.epochs !== recipe.epochs;
  const schedule: ScheduleParams = {
    lr: scaled.lr,
    epochs: scaled.epochs,
    schedule: recipe.schedule.kind === 'cosine'
      ? { ...recipe.schedule, warmupEpochs: scaled.warmupEpochs, warmupLr: scaled.warmupLr, cooldownEpochs: scaled.cooldownEpochs, stepOn: scaledRun ? 'update' : recipe.schedule.stepOn }
      : { ...recipe.schedule, warmupEpochs: scaled.warmupEpochs, warmupLr: scaled.warmupLr, cooldownEpochs: scaled.cooldownEpochs, stepOn: scaledRun ? 'update' : recipe.schedule.stepOn, decayEpochs: Math.max(1, Math.round(recipe.schedule.decayEpochs * (scaled.epochs / recipe.epochs))) },
  };
  const totalEpochs = Math.ceil(scaled.epochs + scaled.cooldownEpochs);
  const seed = seedOverride ?? recipe.seed;
  const runKey = `${recipeHash(recipe)}|${JSON.stringify(profile)}|classes ${numClasses}|train ${dataset.trainCount}|seed ${seed}`;
  return {
    recipe, profile, scaled, numClasses, microBatch, microBatchesPerUpdate, epochSamples, updatesPerEpoch, totalEpochs,
    schedule, repeats, selectedRound, runKey, rules,
  };
}
