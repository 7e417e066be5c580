// The typebox schema of a training procedure ("recipe").
//
// A recipe is plain data: every hyper-parameter the RSB paper's Table 1 lists, plus the
// ones timm fixes by default, written out explicitly so that nothing is implied by code.
// The pipeline hashes the validated object (recipes/hash.ts), so changing any field makes
// the training stage stale. This module must stay free of tfjs (pipeline.ts imports it and
// must start fast).
//
// Field names follow the trainer's vocabulary (camelCase); the timm command-line flag each
// one corresponds to is given in its description.
import { Type, type Static } from '@sinclair/typebox';

const Num = (description: string, opts: { minimum?: number; maximum?: number; exclusiveMinimum?: number } = {}) =>
  Type.Number({ description, ...opts });
const Int = (description: string, opts: { minimum?: number; maximum?: number } = {}) =>
  Type.Integer({ description, ...opts });
const Prob = (description: string) => Type.Number({ description, minimum: 0, maximum: 1 });
/** Objects reject unknown keys, so a typo in a recipe or a derive() patch is an error, not a silent no-op. */
const Strict: typeof Type.Object = ((props: Parameters<typeof Type.Object>[0], opts?: Parameters<typeof Type.Object>[1]) =>
  Type.Object(props, { additionalProperties: false, ...opts })) as typeof Type.Object;

export const Interpolation = Type.Union([Type.Literal('bilinear'), Type.Literal('bicubic')]);
export type Interpolation = Static<typeof Interpolation>;

/** 'random' draws bilinear or bicubic per image (timm's --train-interpolation random). */
export const TrainInterpolation = Type.Union([Interpolation, Type.Literal('random')]);
export type TrainInterpolation = Static<typeof TrainInterpolation>;

// ---------------------------------------------------------------- model

export const ModelSpec = Strict({
  arch: Type.String({ description: 'architecture id understood by createResNet (e.g. resnet50)', minLength: 1 }),
  numClasses: Int('classifier outputs (ImageNet-1k: 1000)', { minimum: 1 }),
  dropRate: Prob('dropout before the classifier (--drop)'),
  dropPathRate: Prob('stochastic depth: rate of the LAST block; block k of n gets rate*k/(n-1) (--drop-path)'),
  zeroInitLastBn: Type.Boolean({ description: "gamma of each block's last BN starts at 0 (timm zero_init_last)" }),
});
export type ModelSpec = Static<typeof ModelSpec>;

// ---------------------------------------------------------------- optimizer

/** Which parameters are put in the no-decay group (timm param_groups_weight_decay). */
export const WeightDecayExempt = Type.Union([
  Type.Literal('1d-and-bias', { description: 'every parameter with ndim <= 1 and every name ending .bias: wd 0 (and no LAMB trust ratio)' }),
  Type.Literal('none', { description: 'weight decay on every parameter (torchvision reference, He et al.)' }),
]);
export type WeightDecayExempt = Static<typeof WeightDecayExempt>;

const Betas = Type.Tuple([Prob('beta1'), Prob('beta2')]);

export const LambSpec = Strict({
  name: Type.Literal('lamb'),
  lr: Num('peak learning rate, used verbatim (--lr; no batch-size scaling)', { exclusiveMinimum: 0 }),
  weightDecay: Num('L2 term added to the update before the trust ratio (--weight-decay)', { minimum: 0 }),
  weightDecayExempt: WeightDecayExempt,
  betas: Betas,
  eps: Num('added to sqrt(v_hat) (timm Lamb default 1e-6)', { exclusiveMinimum: 0 }),
  maxGradNorm: Type.Union([Num('global gradient-norm clip inside the optimizer (timm Lamb default 1.0)', { exclusiveMinimum: 0 }), Type.Null()]),
});

export const SgdSpec = Strict({
  name: Type.Literal('sgd'),
  lr: Num('peak learning rate (--lr)', { exclusiveMinimum: 0 }),
  weightDecay: Num('L2 added to the gradient, PyTorch SGD semantics (--weight-decay)', { minimum: 0 }),
  weightDecayExempt: WeightDecayExempt,
  momentum: Prob('momentum (--momentum)'),
  nesterov: Type.Boolean({ description: 'Nesterov momentum (timm --opt sgd is Nesterov; --opt momentum is not)' }),
});

export const AdamWSpec = Strict({
  name: Type.Literal('adamw'),
  lr: Num('peak learning rate (--lr)', { exclusiveMinimum: 0 }),
  weightDecay: Num('decoupled decay p -= lr*wd*p, PyTorch AdamW semantics (--weight-decay)', { minimum: 0 }),
  weightDecayExempt: WeightDecayExempt,
  betas: Betas,
  eps: Num('added to sqrt(v_hat)', { exclusiveMinimum: 0 }),
});

export const OptimizerSpec = Type.Union([LambSpec, SgdSpec, AdamWSpec]);
export type OptimizerSpec = Static<typeof OptimizerSpec>;
export type LambSpec = Static<typeof LambSpec>;
export type SgdSpec = Static<typeof SgdSpec>;
export type AdamWSpec = Static<typeof AdamWSpec>;

// ---------------------------------------------------------------- schedule

const StepOn = Type.Union([Type.Literal('epoch'), Type.Literal('update')], {
  description: "'epoch': LR set once per epoch (timm default); 'update': per optimizer update (--sched-on-updates)",
});

export const CosineSchedule = Strict({
  kind: Type.Literal('cosine'),
  warmupEpochs: Int('linear warmup overlaid on the cosine, not prefixed (--warmup-epochs)', { minimum: 0 }),
  warmupLr: Num('LR at epoch 0 of the warmup (--warmup-lr)', { minimum: 0 }),
  minLr: Num('floor of the cosine and LR of the cooldown epochs (--min-lr)', { minimum: 0 }),
  cooldownEpochs: Int('epochs run at minLr after `epochs` (--cooldown-epochs)', { minimum: 0 }),
  stepOn: StepOn,
});

export const StepSchedule = Strict({
  kind: Type.Literal('step'),
  decayEpochs: Int('LR multiplied by decayRate every decayEpochs epochs (--decay-epochs)', { minimum: 1 }),
  decayRate: Num('multiplier applied at each decay (--decay-rate)', { exclusiveMinimum: 0 }),
  warmupEpochs: Int('linear warmup epochs (0: none)', { minimum: 0 }),
  warmupLr: Num('LR at epoch 0 of the warmup', { minimum: 0 }),
  cooldownEpochs: Int('epochs run after `epochs` at the last LR', { minimum: 0 }),
  stepOn: StepOn,
});

export const ScheduleSpec = Type.Union([CosineSchedule, StepSchedule]);
export type ScheduleSpec = Static<typeof ScheduleSpec>;
export type CosineSchedule = Static<typeof CosineSchedule>;
export type StepSchedule = Static<typeof StepSchedule>;

// ---------------------------------------------------------------- loss

export const BceLoss = Strict({
  kind: Type.Literal('bce'),
  targetThreshold: Type.Union([Num('targets become (y > threshold) as 0/1 (--bce-target-thresh)', { minimum: 0, maximum: 1 }), Type.Null()]),
  reduction: Type.Literal('mean', { description: 'mean over batch AND classes (not --bce-sum)' }),
});
export const CrossEntropyLoss = Strict({
  kind: Type.Literal('ce'),
});
export const LossSpec = Type.Union([BceLoss, CrossEntropyLoss]);
export type LossSpec = Static<typeof LossSpec>;

// ---------------------------------------------------------------- data / augmentation

export const TrainData = Strict({
  resolution: Int('train crop size S (--img-size)', { minimum: 1 }),
  hflip: Prob('horizontal flip probability (--hflip)'),
  rrcScale: Type.Tuple([Prob('min area fraction'), Prob('max area fraction')], { description: 'RandomResizedCrop scale (--scale)' }),
  rrcRatio: Type.Tuple([Num('min aspect', { exclusiveMinimum: 0 }), Num('max aspect', { exclusiveMinimum: 0 })], {
    description: 'RandomResizedCrop aspect ratio range, log-uniform (--ratio)',
  }),
  interpolation: TrainInterpolation,
  randAugment: Type.Union([Type.String({ pattern: '^rand(-[a-z]+[0-9.]*)*$' }), Type.Null()], {
    description: "timm RandAugment config string, e.g. 'rand-m7-mstd0.5-inc1' (--aa); null: off",
  }),
  autoAugment: Type.Boolean({ description: 'AutoAugment policy (not used by any recipe here)' }),
  colorJitter: Type.Union([Num('colour jitter strength', { minimum: 0 }), Type.Null()], {
    description: 'null: off (timm disables --color-jitter whenever --aa is set)',
  }),
  pcaLighting: Type.Boolean({ description: 'AlexNet-style PCA lighting noise' }),
  randomErasing: Prob('random erasing probability (--reprob)'),
  repeatedAugmentation: Int('copies of each image per epoch, each augmented differently (--aug-repeats); 1: off', { minimum: 1 }),
  mean: Type.Tuple([Num('R'), Num('G'), Num('B')], { description: 'normalisation mean in [0,1] units' }),
  std: Type.Tuple([Num('R', { exclusiveMinimum: 0 }), Num('G', { exclusiveMinimum: 0 }), Num('B', { exclusiveMinimum: 0 })], {
    description: 'normalisation std in [0,1] units',
  }),
});
export type TrainData = Static<typeof TrainData>;

export const MixSpec = Strict({
  mixupAlpha: Num('Beta(alpha, alpha) for mixup; 0: mixup off (--mixup)', { minimum: 0 }),
  cutmixAlpha: Num('Beta(alpha, alpha) for cutmix; 0: cutmix off (--cutmix)', { minimum: 0 }),
  prob: Prob('probability that a batch is mixed at all (--mixup-prob)'),
  switchProb: Prob('probability of cutmix rather than mixup when both are on (--mixup-switch-prob)'),
  mode: Type.Literal('batch', { description: 'one lambda per local batch (--mixup-mode batch)' }),
  correctLam: Type.Boolean({ description: 'cutmix lambda recomputed from the clipped box' }),
});
export type MixSpec = Static<typeof MixSpec>;

export const EvalData = Strict({
  resolution: Int('test crop size (--img-size at validation)', { minimum: 1 }),
  cropPct: Num('resize shorter side to floor(resolution / cropPct), then centre crop', { exclusiveMinimum: 0, maximum: 1 }),
  interpolation: Interpolation,
});
export type EvalData = Static<typeof EvalData>;

// ---------------------------------------------------------------- the recipe

export const Recipe = Strict(
  {
    id: Type.String({ pattern: '^[a-z0-9][a-z0-9._-]*$', description: 'stage name suffix: train:<id>' }),
    title: Type.String({ minLength: 1 }),
    description: Type.String(),
    derivedFrom: Type.Optional(Type.String({ description: 'id of the recipe this one was derived from (deriveRecipe)' })),
    model: ModelSpec,
    epochs: Int('cosine/step length T in epochs (--epochs); cooldown epochs come on top', { minimum: 1 }),
    globalBatch: Int('samples per optimizer step over all devices (timm: -b per GPU x GPUs)', { minimum: 1 }),
    optimizer: OptimizerSpec,
    schedule: ScheduleSpec,
    labelSmoothing: Prob('epsilon of the smoothed one-hot (--smoothing); applied inside the mixup target'),
    loss: LossSpec,
    train: TrainData,
    mix: MixSpec,
    eval: EvalData,
    ema: Type.Union([Strict({ decay: Prob('EMA decay per step') }), Type.Null()], { description: 'EMA of weights; null: off (--model-ema)' }),
    gradClip: Type.Union([Num('train-script gradient clip (--clip-grad)', { exclusiveMinimum: 0 }), Type.Null()], {
      description: 'null: none. Independent of LAMB\'s internal clip (optimizer.maxGradNorm)',
    }),
    precision: Type.Union([Type.Literal('amp-fp16'), Type.Literal('fp32')], { description: "'amp-fp16': --amp mixed precision" }),
    batchNorm: Strict({
      sync: Type.Boolean({ description: 'SyncBN across devices (--sync-bn)' }),
      distBn: Type.Union([Type.Literal('reduce'), Type.Literal('broadcast'), Type.Literal('none')], {
        description: "running stats across devices at epoch end (--dist-bn); 'reduce' averages",
      }),
    }),
    seed: Int('run seed (--seed)', { minimum: 0 }),
  },
  { additionalProperties: false },
);
export type Recipe = Static<typeof Recipe>;
