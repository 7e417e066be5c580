// Constants shared by every ImageNet recipe.

/** ImageNet channel mean and std in [0, 1] units (timm IMAGENET_DEFAULT_MEAN / _STD). */
export const IMAGENET_MEAN: [number, number, number] = [0.485, 0.456, 0.406];
export const IMAGENET_STD: [number, number, number] = [0.229, 0.224, 0.225];
export const IMAGENET_CLASSES = 1000;
