// RSB procedure A3: ResNet-50, 100 epochs at 160 px, tested at 224 (78.1 % top-1).
// Same as A1 (see a1.ts for the evidence of every shared value) except for the fields below.
import type { Recipe } from './schema.ts';
import { a1 } from './a1.ts';
import { withOverrides } from './derive.ts';

export const a3: Recipe = withOverrides(
  a1,
  {
    id: 'a3',
    title: 'RSB A3 (ResNet-50, 100 epochs, 160 px)',
    description: 'ResNet strikes back procedure A3: LAMB lr 8e-3, BCE with threshold 0.2, mixup 0.1 / cutmix 1.0, RandAugment 6/0.5, train 160 / test 224, no repeated augmentation, no stochastic depth.',
    model: { dropPathRate: 0 }, // [S] no stochastic depth
    epochs: 100, // [S]
    optimizer: { name: 'lamb', lr: 8e-3, weightDecay: 0.02 }, // [S]
    labelSmoothing: 0, // [S]
    train: {
      resolution: 160, // [T] trained at 160 ...
      randAugment: 'rand-m6-mstd0.5-inc1', // [S]
      repeatedAugmentation: 1, // [S] plain distributed sampler
    },
    mix: { mixupAlpha: 0.1 }, // [S]
    eval: { resolution: 224 }, // [T] ... tested at 224, crop 0.95
  },
  'recipes/a3.ts',
);
