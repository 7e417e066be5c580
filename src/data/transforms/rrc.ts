// RandomResizedCrop's box choice (spec 2.2, timm's RandomResizedCropAndInterpolation):
// up to 10 attempts at a box of random area fraction and log-uniform aspect ratio, placed
// uniformly when it fits, else a central crop clamped to the ratio range. Only the box is
// chosen here; resample.ts turns it into pixels. The box is always in the coordinates of
// the ORIGINAL (EXIF-rotated) image, even when the decoder shrinks on load.
import type { RandomSource } from './random-source.ts';
import { pyRound } from './pymath.ts';

export interface CropBox {
  /** top row */
  i: number;
  /** left column */
  j: number;
  /** height */
  h: number;
  /** width */
  w: number;
}

export interface RrcResult extends CropBox {
  /** attempts drawn (10 when the fallback was used) */
  attempts: number;
  fallback: boolean;
}

const ATTEMPTS = 10;

export function rrcParams(
  imgW: number,
  imgH: number,
  scale: readonly [number, number],
  ratio: readonly [number, number],
  rnd: RandomSource,
): RrcResult {
  if (!(imgW > 0 && imgH > 0)) throw new RangeError(`rrcParams: image size ${imgW}x${imgH} is empty`);
  if (!(scale[0] <= scale[1])) throw new RangeError(`rrcParams: scale [${scale}] must be increasing`);
  if (!(ratio[0] > 0 && ratio[0] <= ratio[1])) throw new RangeError(`rrcParams: ratio [${ratio}] must be positive and increasing`);
  const area = imgW * imgH;
  const logLo = Math.log(ratio[0]);
  const logHi = Math.log(ratio[1]);
  for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
    const targetArea = rnd.uniform(scale[0], scale[1]) * area;
    const aspect = Math.exp(rnd.uniform(logLo, logHi));
    const w = pyRound(Math.sqrt(targetArea * aspect));
    const h = pyRound(Math.sqrt(targetArea / aspect));
    if (w <= imgW && h <= imgH) {
      // Order matters for replay: the top is drawn before the left.
      const i = rnd.randint(0, imgH - h);
      const j = rnd.randint(0, imgW - w);
      return { i, j, h, w, attempts: attempt, fallback: false };
    }
  }
  // Central fallback. An image exactly at a ratio bound counts as inside the range,
  // so a 4:3 image falls back to the whole picture.
  const inRatio = imgW / imgH;
  let w: number, h: number;
  if (inRatio < Math.min(ratio[0], ratio[1])) {
    w = imgW;
    h = pyRound(w / Math.min(ratio[0], ratio[1]));
  } else if (inRatio > Math.max(ratio[0], ratio[1])) {
    h = imgH;
    w = pyRound(h * Math.max(ratio[0], ratio[1]));
  } else {
    w = imgW;
    h = imgH;
  }
  return { i: Math.floor((imgH - h) / 2), j: Math.floor((imgW - w) / 2), h, w, attempts: ATTEMPTS, fallback: true };
}
