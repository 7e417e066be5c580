// The original ResNet-50 procedure (He et al. 2016, "Deep Residual Learning"), the
// comparison's oldest baseline (75.3 % top-1 is the commonly quoted single-crop figure [U]).
//
// Paper: SGD momentum 0.9, lr 0.1 divided by 10 when the error plateaus, weight decay 1e-4
// on every weight, batch 256, ~60e4 iterations, cross-entropy, scale augmentation (shorter
// side in [256, 480], random 224 crop), flip, AlexNet colour (PCA lighting) augmentation,
// BN after every conv, no dropout. The usual re-run (and this recipe) fixes the plateau rule
// to "x0.1 every 30 epochs, 90 epochs". The pipeline's crop is RandomResizedCrop, not the
// paper's scale augmentation; that difference is stated here rather than hidden.
import type { Recipe } from './schema.ts';
import { IMAGENET_CLASSES, IMAGENET_MEAN, IMAGENET_STD } from './imagenet.ts';
import { validateRecipe } from './validate.ts';

export const resnetOriginal90ep: Recipe = validateRecipe(
  {
    id: 'resnet-original-90ep',
    title: 'Original ResNet-50 (He et al. 2016, 90 epochs)',
    description: 'SGD momentum 0.9, lr 0.1 x0.1 every 30 epochs, wd 1e-4 on all weights, batch 256, cross-entropy, crop + flip + PCA lighting.',
    model: {
      arch: 'resnet50',
      numClasses: IMAGENET_CLASSES,
      dropRate: 0,
      dropPathRate: 0,
      zeroInitLastBn: false, // He et al. initialise every BN gamma to 1
    },
    epochs: 90,
    globalBatch: 256,
    optimizer: {
      name: 'sgd',
      lr: 0.1,
      weightDecay: 1e-4,
      weightDecayExempt: 'none', // decay on every parameter, BN included
      momentum: 0.9,
      nesterov: false, // heavy-ball momentum as in the paper; timm's `--opt sgd` would be Nesterov
    },
    schedule: {
      kind: 'step',
      decayEpochs: 30,
      decayRate: 0.1,
      warmupEpochs: 0,
      warmupLr: 0,
      cooldownEpochs: 0,
      stepOn: 'epoch',
    },
    labelSmoothing: 0,
    loss: { kind: 'ce' },
    train: {
      resolution: 224,
      hflip: 0.5,
      rrcScale: [0.08, 1], // substitute for the paper's [256, 480] scale augmentation
      rrcRatio: [3 / 4, 4 / 3],
      interpolation: 'bilinear',
      randAugment: null,
      autoAugment: false,
      colorJitter: null,
      pcaLighting: true, // the paper's "standard color augmentation" [Krizhevsky et al.]
      randomErasing: 0,
      repeatedAugmentation: 1,
      mean: IMAGENET_MEAN,
      std: IMAGENET_STD,
    },
    mix: { mixupAlpha: 0, cutmixAlpha: 0, prob: 1, switchProb: 0.5, mode: 'batch', correctLam: true },
    eval: { resolution: 224, cropPct: 0.875, interpolation: 'bilinear' }, // single 224 crop of the 256 resize
    ema: null,
    gradClip: null,
    precision: 'fp32',
    batchNorm: { sync: false, distBn: 'reduce' },
    seed: 0,
  },
  'recipes/resnet-original-90ep.ts',
);
