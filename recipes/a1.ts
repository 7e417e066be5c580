// RSB procedure A1: ResNet-50, 600 epochs, LAMB + BCE, the paper's best (80.4 % top-1 at 224).
//
// Values and their evidence come from the shared spec (rsb-recipes.md, "Table 1"): [P] the
// paper, [S] independent re-implementations, [T] timm code/defaults, [U] unconfirmed.
// Where the paper is silent the value is the RSB-era timm default (train.py at commit
// 93901e99 / v0.5.4) and the comment names the alternative.
import type { Recipe } from './schema.ts';
import { IMAGENET_CLASSES, IMAGENET_MEAN, IMAGENET_STD } from './imagenet.ts';
import { validateRecipe } from './validate.ts';

export const a1: Recipe = validateRecipe(
  {
    id: 'a1',
    title: 'RSB A1 (ResNet-50, 600 epochs)',
    description: 'ResNet strikes back procedure A1: LAMB, BCE with threshold 0.2, mixup 0.2 / cutmix 1.0, RandAugment 7/0.5, repeated augmentation x3.',
    model: {
      arch: 'resnet50',
      numClasses: IMAGENET_CLASSES,
      dropRate: 0, // [S] --drop 0
      dropPathRate: 0.05, // [S] linear 0 -> 0.05 over the 16 blocks
      zeroInitLastBn: true, // [T] timm resnet zero_init_last
    },
    epochs: 600, // [P]
    globalBatch: 2048, // [P]/[S]
    optimizer: {
      name: 'lamb',
      lr: 5e-3, // [S]; used verbatim (paper-era timm did not rescale --lr)
      weightDecay: 0.01, // [S] A1 uses 0.01, A2/A3 0.02
      weightDecayExempt: '1d-and-bias', // [T] BN gamma/beta and biases: no decay, no trust ratio
      betas: [0.9, 0.999], // [T] timm Lamb defaults
      eps: 1e-6, // [T] (not Adam's 1e-8)
      maxGradNorm: 1.0, // [T] LAMB's internal global clip, always on in timm
    },
    schedule: {
      kind: 'cosine',
      warmupEpochs: 5, // [S]
      warmupLr: 1e-4, // [T] RSB-era train.py default; timm today defaults to 1e-5
      minLr: 1e-6, // [T] RSB-era default; timm 0.4.12 used 1e-5, timm today 0
      cooldownEpochs: 10, // [U] RSB-era default (610 epochs run); alternative 0 = the paper's nominal 600
      stepOn: 'epoch', // [T] LR set once per epoch
    },
    labelSmoothing: 0.1, // [S] A1 only; nearly erased by the BCE threshold
    loss: {
      kind: 'bce',
      targetThreshold: 0.2, // [S] for A2/A3, [U] assumed the same for A1 (alternative: null, no threshold)
      reduction: 'mean', // [T] mean over batch x classes
    },
    train: {
      resolution: 224, // [T]
      hflip: 0.5, // [T]
      rrcScale: [0.08, 1], // [T]
      rrcRatio: [3 / 4, 4 / 3], // [T]
      interpolation: 'random', // [U] RSB-era default --train-interpolation random; alternative 'bicubic'
      randAugment: 'rand-m7-mstd0.5-inc1', // [S] 2 ops, p 0.5, increasing set
      autoAugment: false, // [S]
      colorJitter: null, // [T] timm disables it when RandAugment is set
      pcaLighting: false, // [S]
      randomErasing: 0, // [S] --reprob 0
      repeatedAugmentation: 3, // [S]
      mean: IMAGENET_MEAN,
      std: IMAGENET_STD,
    },
    mix: {
      mixupAlpha: 0.2, // [S] A1 0.2, A2/A3 0.1
      cutmixAlpha: 1.0, // [S]
      prob: 1.0, // [T] every batch is mixed
      switchProb: 0.5, // [T]
      mode: 'batch', // [T] one lambda per local batch
      correctLam: true, // [T]
    },
    eval: {
      resolution: 224, // [P]
      cropPct: 0.95, // [T] resize 235, centre crop 224
      interpolation: 'bicubic', // [T]
    },
    ema: null, // [S]
    gradClip: null, // [S] no --clip-grad (LAMB still clips internally, see optimizer)
    precision: 'amp-fp16', // [S] --amp
    batchNorm: { sync: false, distBn: 'reduce' }, // [T] defaults; [U] what RSB used (mmpretrain: SyncBN)
    seed: 0, // [T] released weights are seed 0
  },
  'recipes/a1.ts',
);
