// RSB procedure A2: ResNet-50, 300 epochs (79.8 % top-1 at 224).
// Same as A1 (see a1.ts for the evidence of every shared value) except for the fields below.
import type { Recipe } from './schema.ts';
import { a1 } from './a1.ts';
import { withOverrides } from './derive.ts';

export const a2: Recipe = withOverrides(
  a1,
  {
    id: 'a2',
    title: 'RSB A2 (ResNet-50, 300 epochs)',
    description: 'ResNet strikes back procedure A2: LAMB, BCE with threshold 0.2, mixup 0.1 / cutmix 1.0, RandAugment 7/0.5, repeated augmentation x3.',
    epochs: 300, // [P]
    optimizer: { name: 'lamb', weightDecay: 0.02 }, // [S]
    labelSmoothing: 0, // [S] --smoothing 0.0
    mix: { mixupAlpha: 0.1 }, // [S]
  },
  'recipes/a2.ts',
);
