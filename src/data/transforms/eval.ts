// The evaluation transform (spec 2.13; timm's transforms_imagenet_eval for centre crops):
// resize the shorter side to floor(S / crop_pct) with the longer side scaled and truncated
// like torchvision, antialiased bicubic, then a centre crop whose offsets use Python's
// round-half-even (a 313-wide image is cut from column 44, not 45).
import type { RgbImage } from './image.ts';
import type { CropBox } from './rrc.ts';
import { pyRound } from './pymath.ts';
import { resizeCrop, type ResampleFilter } from './resample.ts';

export interface EvalGeometry {
  /** size after the shorter-side resize, [height, width] */
  resizeHW: [number, number];
  /** centre-crop offsets in the resized image, [top, left] */
  cropTopLeft: [number, number];
}

/** floor(S / crop_pct): 224 / 0.95 gives 235. */
export function evalResizeSize(size: number, cropPct: number): number {
  if (!(cropPct > 0 && cropPct <= 1)) throw new RangeError(`crop_pct must be in (0, 1], got ${cropPct}`);
  return Math.floor(size / cropPct);
}

export function evalGeometry(width: number, height: number, size: number, cropPct: number): EvalGeometry {
  const short = evalResizeSize(size, cropPct);
  let rw: number, rh: number;
  if (width <= height) {
    rw = short;
    rh = Math.trunc((short * height) / width);
  } else {
    rh = short;
    rw = Math.trunc((short * width) / height);
  }
  return { resizeHW: [rh, rw], cropTopLeft: [pyRound((rh - size) / 2), pyRound((rw - size) / 2)] };
}

/** Resize + centre crop to size x size (uint8 HWC). Normalisation is separate (normalize.ts). */
export function evalTransform(img: RgbImage, size: number, cropPct: number, filter: ResampleFilter = 'bicubic'): RgbImage {
  const g = evalGeometry(img.width, img.height, size, cropPct);
  // Resize and crop in one step: only the crop's pixels of the resized grid are computed
  // (identical to resizing everything and cropping).
  const whole: CropBox = { i: 0, j: 0, h: img.height, w: img.width };
  const crop: CropBox = { i: g.cropTopLeft[0], j: g.cropTopLeft[1], h: size, w: size };
  return resizeCrop(img, whole, g.resizeHW[1], g.resizeHW[0], filter, crop);
}
