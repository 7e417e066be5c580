// "No ingredient silently ignored": given a recipe and what the trainer/backend can do,
// list every recipe field that will NOT be honoured, with the reason and what happens
// instead. The trainer prints this list at start and records it in the run's metadata, so
// a result is never presented as "A1" while quietly differing from A1.
//
// tfjs-free on purpose (pipeline.ts and --dry-run can call it without loading a backend).
import { Type, type Static } from '@sinclair/typebox';
import type { Recipe } from '../../recipes/schema.ts';

/** What the running trainer can do. Build it with defaultCapabilities() and adjust. */
export const TrainerCapabilities = Type.Object({
  /** Backend name as selectBackend reports it ('tensorflow', 'wasm', 'cpu'). */
  backend: Type.String(),
  /** Devices (data-parallel workers) the run uses. */
  devices: Type.Integer({ minimum: 1 }),
  /** fp16 autocast with dynamic loss scaling (timm --amp). */
  mixedPrecisionFp16: Type.Boolean(),
  /** Exponential moving average of the weights. */
  ema: Type.Boolean(),
  /** Train-script gradient clipping (--clip-grad), separate from LAMB's internal clip. */
  gradClip: Type.Boolean(),
  /** BatchNorm synchronised across devices during the forward pass. */
  syncBn: Type.Boolean(),
  /** Epoch-end handling of BN running stats across devices that is implemented. */
  distBn: Type.Array(Type.Union([Type.Literal('reduce'), Type.Literal('broadcast'), Type.Literal('none')])),
  /** Train transforms beyond crop/flip/RandAugment. */
  pcaLighting: Type.Boolean(),
  colorJitter: Type.Boolean(),
  autoAugment: Type.Boolean(),
  randomErasing: Type.Boolean(),
  /** Architectures the model builder knows; null: not checked here. */
  archs: Type.Union([Type.Array(Type.String()), Type.Null()]),
});
export type TrainerCapabilities = Static<typeof TrainerCapabilities>;

/** One recipe field the run cannot honour. Recorded in run metadata. */
export const Unhonoured = Type.Object({
  /** JSON path in the recipe, e.g. 'precision' or 'train.randomErasing'. */
  field: Type.String(),
  value: Type.Unknown(),
  reason: Type.String(),
  /** What the run does instead. */
  instead: Type.String(),
});
export type Unhonoured = Static<typeof Unhonoured>;

/**
 * What this pipeline implements today, per backend. tfjs has no fp16 autocast or loss
 * scaling on any backend (tfjs-node runs float32 kernels; wasm and cpu are float32 only),
 * so AMP is never honoured; the transforms are crop, flip and RandAugment only; BN stats
 * are averaged at epoch end (design: per-worker BN, 'reduce').
 */
export function defaultCapabilities(backend: string, devices = 1): TrainerCapabilities {
  return {
    backend,
    devices,
    mixedPrecisionFp16: false,
    ema: false,
    gradClip: false,
    syncBn: false,
    distBn: ['reduce', 'none'],
    pcaLighting: false,
    colorJitter: false,
    autoAugment: false,
    randomErasing: false,
    archs: null,
  };
}

/** Every field of `recipe` that `caps` cannot honour, in recipe order. Empty: the run is the recipe. */
export function unhonouredIngredients(recipe: Recipe, caps: TrainerCapabilities): Unhonoured[] {
  const out: Unhonoured[] = [];
  const add = (field: string, value: unknown, reason: string, instead: string) => out.push({ field, value, reason, instead });

  if (caps.archs && !caps.archs.includes(recipe.model.arch)) {
    add('model.arch', recipe.model.arch, `architecture not known to the model builder (known: ${caps.archs.join(', ')})`, 'the run cannot start');
  }
  if (recipe.precision === 'amp-fp16' && !caps.mixedPrecisionFp16) {
    add('precision', recipe.precision, `fp16 mixed precision is not available on the '${caps.backend}' backend`, 'trains in float32 (same maths, slightly different rounding, no loss scaling)');
  }
  if (recipe.ema && !caps.ema) {
    add('ema', recipe.ema, 'EMA of weights is not implemented by the trainer', 'evaluates the raw weights');
  }
  if (recipe.gradClip !== null && !caps.gradClip) {
    add('gradClip', recipe.gradClip, 'train-script gradient clipping is not implemented', 'no clipping beyond the optimizer\'s own');
  }
  if (caps.devices > 1) {
    if (recipe.batchNorm.sync && !caps.syncBn) {
      add('batchNorm.sync', true, `SyncBN across ${caps.devices} devices is not implemented`, 'per-device batch statistics');
    }
    if (!caps.distBn.includes(recipe.batchNorm.distBn)) {
      add('batchNorm.distBn', recipe.batchNorm.distBn, `epoch-end BN '${recipe.batchNorm.distBn}' is not implemented`, `BN running stats handled as '${caps.distBn[0]}'`);
    }
  }
  const t = recipe.train;
  if (t.pcaLighting && !caps.pcaLighting) add('train.pcaLighting', true, 'PCA lighting noise is not implemented by the train transform', 'no lighting noise');
  if (t.colorJitter !== null && t.colorJitter > 0 && !caps.colorJitter) {
    add('train.colorJitter', t.colorJitter, 'colour jitter is not implemented by the train transform', 'no colour jitter');
  }
  if (t.autoAugment && !caps.autoAugment) add('train.autoAugment', true, 'AutoAugment policies are not implemented', 'no AutoAugment');
  if (t.randomErasing > 0 && !caps.randomErasing) {
    add('train.randomErasing', t.randomErasing, 'random erasing is not implemented', 'no random erasing');
  }
  return out;
}

/** Human-readable lines for the trainer's start banner. */
export function formatUnhonoured(list: readonly Unhonoured[]): string {
  if (list.length === 0) return 'every recipe ingredient is honoured';
  return [
    `${list.length} recipe ingredient(s) NOT honoured on this run:`,
    ...list.map((u) => `  - ${u.field} = ${JSON.stringify(u.value)}: ${u.reason}; ${u.instead}`),
  ].join('\n');
}
