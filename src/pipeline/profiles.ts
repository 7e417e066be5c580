// Scale profiles: how a paper recipe is shrunk to fit the hardware at hand, by stated rules.
//
// A profile never switches an ingredient off. It changes only the size of the problem:
// dataset, model depth/width, image resolution, number of epochs and the batch (with the
// LR rescaled by a named rule). Everything else (LAMB and its groups, BCE with threshold,
// mixup/cutmix, RandAugment, repeated augmentation, drop path, cosine schedule with warmup)
// runs as the recipe says. The rules are written out in `describeScaling()` and recorded
// in run.json and in the report, so nobody mistakes an embedded-profile figure for the paper's.
//
// This module is plain data and arithmetic (no tfjs): pipeline.ts imports it and must start fast.
import { Type, type Static } from '@sinclair/typebox';

export const LrRule = Type.Union([Type.Literal('none'), Type.Literal('linear'), Type.Literal('sqrt')]);
export type LrRule = Static<typeof LrRule>;

export const Profile = Type.Object({
  id: Type.String(),
  description: Type.String(),
  /** Model architecture to train instead of the recipe's; null keeps the recipe's (resnet50). */
  arch: Type.Union([Type.String(), Type.Null()]),
  /** Epochs = max(minEpochs, round(recipe epochs * epochScale)); warmup/cooldown epochs scale alike (fractional allowed: the schedule then runs per update). */
  epochScale: Type.Number({ exclusiveMinimum: 0, maximum: 1 }),
  minEpochs: Type.Integer({ minimum: 1 }),
  /** Train and test resolution = round(recipe size * imageScale / 8) * 8, so A3's 160-train/224-test ratio is kept. */
  imageScale: Type.Number({ exclusiveMinimum: 0, maximum: 1 }),
  /** Global batch; null keeps the recipe's (2048). */
  globalBatch: Type.Union([Type.Integer({ minimum: 2 }), Type.Null()]),
  /** How the LR of LAMB/AdamW recipes follows a changed global batch: lr = recipe lr * (batch ratio)^p, p = 1 (linear), 0.5 (sqrt) or 0 (none). SGD recipes always use the linear rule (Goyal et al. 2017). */
  lrRule: LrRule,
  /** Images per forward/backward pass on one worker; gradients are accumulated over micro-batches to reach the global batch. */
  microBatch: Type.Integer({ minimum: 2 }),
  /** The dataset used when no --data is given: the embedded synthetic one and its size. */
  dataset: Type.Object({
    classes: Type.Integer({ minimum: 2 }),
    trainPerClass: Type.Integer({ minimum: 1 }),
    valPerClass: Type.Integer({ minimum: 1 }),
  }),
  /** Evaluate on val at every epoch end (for the learning curves); the final eval stage always runs. */
  evalEveryEpoch: Type.Boolean(),
  /** Cap on the validation images used for per-epoch eval (0 = all): keeps curves cheap on big val sets. */
  epochEvalLimit: Type.Integer({ minimum: 0 }),
});
export type Profile = Static<typeof Profile>;

export const profiles: Record<string, Profile> = {
  /**
   * The default: the README command must finish on 2 CPU cores in minutes. The rules: a
   * tiny ResNet (timm's Bottleneck [1,1,1,1], widths 8-64) at 1/4 resolution (56 px for
   * A1/A2; A3 trains at 40 px and tests at 56 px, keeping its 160/224 ratio), 1/40 of the
   * epochs (A1 15, A2 8, A3 3), global batch 64 (2 micro-batches of 32).
   *
   * LR rule 'none': the recipe's peak LR is kept. Under LAMB every layer's step is
   * lr x ||w|| along a unit-norm direction whatever the batch size (the trust ratio), so the
   * batch changes only the gradient noise, not the step length. The sqrt rule (what timm
   * applies when --lr is not given) would shrink the step 5.7x on top of a run that already
   * has ~2,800x fewer updates than the paper's (see docs/training.md for the measured curves).
   */
  embedded: {
    id: 'embedded',
    description: "synthetic ImageNet-layout dataset, tiny ResNet, 1/4 resolution, 1/40 of the epochs, batch 64 with the recipe's peak LR (LAMB rule 'none')",
    arch: 'resnet_tiny',
    epochScale: 1 / 40,
    minEpochs: 3,
    imageScale: 0.25,
    globalBatch: 64,
    lrRule: 'none',
    microBatch: 32,
    dataset: { classes: 10, trainPerClass: 60, valPerClass: 20 },
    evalEveryEpoch: true,
    epochEvalLimit: 0,
  },
  /** For tests and CI smoke runs: the embedded profile made smaller still (seconds, not minutes). */
  tiny: {
    id: 'tiny',
    description: 'test-sized: 4 classes, tiny ResNet at 32 px, 3 epochs, batch 16 with sqrt LR scaling',
    arch: 'resnet_tiny',
    epochScale: 1 / 300,
    minEpochs: 3,
    imageScale: 1 / 7,
    globalBatch: 16,
    lrRule: 'sqrt',
    microBatch: 8,
    dataset: { classes: 4, trainPerClass: 12, valPerClass: 4 },
    evalEveryEpoch: true,
    epochEvalLimit: 0,
  },
  /** The paper's recipe, unscaled: resnet50, full resolution and epochs, global batch 2048. */
  imagenet: {
    id: 'imagenet',
    description: "the paper's recipe unscaled (resnet50, 224/160 px, 600/300/100 epochs, global batch 2048)",
    arch: null,
    epochScale: 1,
    minEpochs: 1,
    imageScale: 1,
    globalBatch: null,
    lrRule: 'none',
    microBatch: 32,
    dataset: { classes: 1000, trainPerClass: 1, valPerClass: 1 },
    evalEveryEpoch: true,
    // 2,000 images spread over val (~300 MB of pixels at 224 px, kept in memory for the curve);
    // the final eval stage scores all 50,000, streamed.
    epochEvalLimit: 2000,
  },
};

export function getProfile(id: string): Profile {
  const p = profiles[id];
  if (!p) throw new Error(`unknown profile '${id}' (known: ${Object.keys(profiles).join(', ')})`);
  return p;
}

/** The numbers of a recipe that a profile scales (read from the recipe by the caller). */
export interface ScalableRecipe {
  arch: string;
  epochs: number;
  warmupEpochs: number;
  cooldownEpochs: number;
  trainSize: number;
  testSize: number;
  globalBatch: number;
  lr: number;
  warmupLr: number;
  minLr: number;
  /** Optimizer name: SGD scales its LR linearly with the batch whatever the profile says. */
  optimizer?: string;
}

export interface ScaledRecipe extends ScalableRecipe {
  /** Each rule applied, in words, for run.json and the report. */
  rules: string[];
}

const roundTo8 = (x: number) => Math.max(8, Math.round(x / 8) * 8);

/** Applies a profile's rules to a recipe's numbers. Pure: same inputs, same output. */
export function scaleRecipe(r: ScalableRecipe, p: Profile): ScaledRecipe {
  const rules: string[] = [];
  const epochs = Math.max(p.minEpochs, Math.round(r.epochs * p.epochScale));
  const f = epochs / r.epochs;
  // Warmup keeps its share of the run; it may become fractional, which is why scaled runs
  // step the schedule per update (a fractional epoch of warmup is still a ramp). Cooldown
  // epochs run whole at the minimum LR, so they are rounded to whole epochs.
  const warmupEpochs = r.warmupEpochs * f;
  const cooldownEpochs = Math.round(r.cooldownEpochs * f);
  if (epochs !== r.epochs) {
    rules.push(`epochs ${r.epochs} -> ${epochs} (x${p.epochScale.toPrecision(3)}, at least ${p.minEpochs}); warmup ${r.warmupEpochs} -> ${+warmupEpochs.toFixed(3)} epochs and cooldown ${r.cooldownEpochs} -> ${cooldownEpochs} (rounded), LR stepped per update`);
  }
  const trainSize = p.imageScale === 1 ? r.trainSize : roundTo8(r.trainSize * p.imageScale);
  const testSize = p.imageScale === 1 ? r.testSize : roundTo8(r.testSize * p.imageScale);
  if (trainSize !== r.trainSize || testSize !== r.testSize) {
    rules.push(`resolution train ${r.trainSize} -> ${trainSize}, test ${r.testSize} -> ${testSize} (x${p.imageScale.toPrecision(3)}, rounded to a multiple of 8)`);
  }
  const arch = p.arch ?? r.arch;
  if (arch !== r.arch) rules.push(`model ${r.arch} -> ${arch}`);
  const globalBatch = p.globalBatch ?? r.globalBatch;
  let lr = r.lr;
  let warmupLr = r.warmupLr;
  if (globalBatch !== r.globalBatch) {
    const rule = r.optimizer === 'sgd' ? 'linear' : p.lrRule;
    const power = rule === 'linear' ? 1 : rule === 'sqrt' ? 0.5 : 0;
    const k = Math.pow(globalBatch / r.globalBatch, power);
    lr = r.lr * k;
    warmupLr = r.warmupLr * k;
    const how = power === 0
      ? `peak LR kept at ${r.lr} ('none' rule: LAMB's trust ratio sets each layer's step length whatever the batch)`
      : `LR scaled by (batch ratio)^${power} (${rule} rule${rule !== p.lrRule ? ', as for every SGD recipe' : ''}): peak ${r.lr} -> ${+lr.toPrecision(4)}, warmup start ${r.warmupLr} -> ${+warmupLr.toPrecision(4)}`;
    rules.push(`global batch ${r.globalBatch} -> ${globalBatch}; ${how}`);
  }
  return { arch, epochs, warmupEpochs, cooldownEpochs, trainSize, testSize, globalBatch, lr, warmupLr, minLr: r.minLr, optimizer: r.optimizer, rules };
}
