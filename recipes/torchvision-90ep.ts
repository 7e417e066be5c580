// The PyTorch/torchvision reference recipe for ResNet-50 (76.1 % top-1; timm measures the
// released torchvision weights at 76.156): torchvision references/classification/train.py
// defaults. Differs from the original procedure in using RandomResizedCrop and no PCA lighting.
import type { Recipe } from './schema.ts';
import { resnetOriginal90ep } from './resnet-original-90ep.ts';
import { withOverrides } from './derive.ts';

export const torchvision90ep: Recipe = withOverrides(
  resnetOriginal90ep,
  {
    id: 'torchvision-90ep',
    title: 'torchvision reference ResNet-50 (90 epochs)',
    description: 'SGD momentum 0.9, lr 0.1 x0.1 every 30 epochs, wd 1e-4, batch 256 (8 x 32), cross-entropy, RandomResizedCrop + flip; eval resize 256 crop 224 bilinear.',
    train: { pcaLighting: false, interpolation: 'bilinear' },
  },
  'recipes/torchvision-90ep.ts',
);
