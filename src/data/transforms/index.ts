// Public API of the image transforms (spec 2.2-2.4, 2.13). One sample in, S*S*3 RGB
// bytes (HWC uint8) out; the loader stacks them into NHWC batches and normalisation
// happens later on the tensor (normalize.ts has the helpers and the CPU reference).
//
// Randomness comes only from the `rng` argument, drawn in a fixed order: the crop box,
// the interpolation (when 'random'), the flip, then RandAugment. The loader keys that
// stream by (seed, epoch, position in the epoch's order), so output never depends on
// which worker ran the sample.
import type { RandomSource } from './random-source.ts';
import type { RgbImage } from './image.ts';
import { decodeRgb, probeSize, shrinkFor, type DecodedImage } from './decode.ts';
import { rrcParams, type CropBox } from './rrc.ts';
import { resize, resizeCrop, type ResampleFilter } from './resample.ts';
import { flipHorizontal } from './flip.ts';
import { RandAugment, fillFromMean } from './randaugment.ts';
import { evalGeometry } from './eval.ts';
import type { EvalTransformOptions, TrainTransformOptions } from './options.ts';

export {
  TrainTransformOptions, EvalTransformOptions, trainOptions, evalOptions, trainOptionsFromRecipe, evalOptionsFromRecipe,
} from './options.ts';
export { normalizeToFloat32, normalizationAffine, IMAGENET_MEAN, IMAGENET_STD } from './normalize.ts';
export { decodeRgb, probeSize, DecodeError } from './decode.ts';
export { rrcParams, type CropBox } from './rrc.ts';
export { resizeCrop, resize, type ResampleFilter } from './resample.ts';
export { evalGeometry, evalTransform } from './eval.ts';
export { RandAugment, parseRandAugment } from './randaugment.ts';
export type { RandomSource } from './random-source.ts';
export type { RgbImage } from './image.ts';

const BOTH: readonly ResampleFilter[] = ['bilinear', 'bicubic'];

/** decode, RandomResizedCrop to S x S (random bilinear/bicubic), flip, RandAugment: S*S*3 bytes. */
export async function trainSample(jpeg: Uint8Array, opts: TrainTransformOptions, rng: RandomSource, what?: string): Promise<Uint8Array> {
  return (await trainImage(jpeg, opts, rng, what)).data;
}

/** decode, shorter side to floor(S / cropPct) (antialiased), centre crop S: S*S*3 bytes. */
export async function evalSample(jpeg: Uint8Array, opts: EvalTransformOptions, what?: string): Promise<Uint8Array> {
  return (await evalImage(jpeg, opts, what)).data;
}

export async function trainImage(jpeg: Uint8Array, opts: TrainTransformOptions, rng: RandomSource, what?: string): Promise<RgbImage> {
  const S = opts.size;
  const probed = probeSize(jpeg);
  let img: DecodedImage;
  let box: CropBox;
  if (probed) {
    // The crop is chosen on the full picture, then mapped onto what the decoder returns.
    const full = rrcParams(probed.width, probed.height, opts.scale, opts.ratio, rng);
    const k = opts.shrinkOnLoad ? shrinkFor(full.w, full.h, S, S) : 1;
    img = await decodeRgb(jpeg, { shrink: k, fullSize: probed, what });
    if (k === 1 && (img.width !== probed.width || img.height !== probed.height)) {
      throw new Error(`${what ?? 'image'}: header says ${probed.width}x${probed.height} but it decodes to ${img.width}x${img.height}`);
    }
    box = k === 1 ? full : scaleBox(full, img.width / probed.width, img.height / probed.height, img);
  } else {
    // Not a plain JPEG (PNG behind a .JPEG name, odd headers): decode, then choose.
    img = await decodeRgb(jpeg, { what });
    box = rrcParams(img.width, img.height, opts.scale, opts.ratio, rng);
  }
  // Images of a few pixels can round to an empty box (timm would fail in the resize).
  if (box.w < 1 || box.h < 1) box = { i: Math.min(box.i, img.height - 1), j: Math.min(box.j, img.width - 1), h: Math.max(1, box.h), w: Math.max(1, box.w) };
  const filter = opts.interpolation === 'random' ? rng.choice(BOTH) : opts.interpolation;
  let out = resizeCrop(img, box, S, S, filter);
  if (opts.hflip > 0 && rng.random() < opts.hflip) flipHorizontal(out);
  if (opts.randAugment) out = randAugmentFor(opts).apply(out, rng);
  return out;
}

export async function evalImage(jpeg: Uint8Array, opts: EvalTransformOptions, what?: string): Promise<RgbImage> {
  const S = opts.size;
  const probed = probeSize(jpeg);
  let img: DecodedImage;
  if (probed && opts.shrinkOnLoad) {
    const g = evalGeometry(probed.width, probed.height, S, opts.cropPct);
    const k = shrinkFor(probed.width, probed.height, g.resizeHW[1], g.resizeHW[0]);
    img = await decodeRgb(jpeg, { shrink: k, fullSize: probed, what });
  } else {
    img = await decodeRgb(jpeg, { what });
  }
  // Geometry from the full size, so a shrunk decode lands on the same grid.
  const g = evalGeometry(img.fullWidth, img.fullHeight, S, opts.cropPct);
  const [rh, rw] = g.resizeHW;
  const resized = resize(img, rw, rh, opts.interpolation);
  return resizeCrop(resized, { i: g.cropTopLeft[0], j: g.cropTopLeft[1], h: S, w: S }, S, S, opts.interpolation);
}

function scaleBox(b: CropBox, sx: number, sy: number, img: RgbImage): CropBox {
  const j = Math.min(Math.round(b.j * sx), img.width - 1);
  const i = Math.min(Math.round(b.i * sy), img.height - 1);
  const w = Math.max(1, Math.min(Math.round(b.w * sx), img.width - j));
  const h = Math.max(1, Math.min(Math.round(b.h * sy), img.height - i));
  return { i, j, h, w };
}

const augmenters = new Map<string, RandAugment>();

function randAugmentFor(opts: TrainTransformOptions): RandAugment {
  const key = `${opts.randAugment}|${opts.interpolation}|${opts.mean.join(',')}`;
  let ra = augmenters.get(key);
  if (!ra) {
    ra = new RandAugment(opts.randAugment!, {
      fill: fillFromMean(opts.mean),
      resampleChoices: opts.interpolation === 'random' ? BOTH : [opts.interpolation],
    });
    augmenters.set(key, ra);
  }
  return ra;
}
