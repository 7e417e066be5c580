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
import { decodeFast } from './decode-fast.ts';
import { rrcParams, type CropBox } from './rrc.ts';
import { resizeCrop, type ResampleFilter } from './resample.ts';
import { RandAugment, fillFromMean } from './randaugment.ts';
import { evalGeometry } from './eval.ts';
import type { EvalTransformOptions, TrainTransformOptions } from './options.ts';

export {
  TrainTransformOptions, EvalTransformOptions, DecoderName, trainOptions, evalOptions, trainOptionsFromRecipe, evalOptionsFromRecipe,
} from './options.ts';
export { normalizeToFloat32, normalizationAffine, IMAGENET_MEAN, IMAGENET_STD } from './normalize.ts';
export { decodeRgb, probeSize, DecodeError } from './decode.ts';
export { decodeFast, fastDecoderStatus } from './decode-fast.ts';
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
    const full = nonEmpty(rrcParams(probed.width, probed.height, opts.scale, opts.ratio, rng), probed.width, probed.height);
    const k = opts.shrinkOnLoad ? shrinkFor(full.w, full.h, S, S) : 1;
    // 'fast': libjpeg-turbo decodes the whole picture (it cannot crop) into a per-thread
    // buffer and the box is resized straight out of it. That buffer is only valid until the
    // next decode in this thread, so nothing below awaits before resizeCrop has read it.
    // null: the file goes to sharp below, with the box already drawn, so the draws match.
    // (decodeFast takes only files without EXIF rotation, so the box needs no mapping.)
    const fast = k === 1 && opts.decoder === 'fast' ? decodeFast(jpeg) : null;
    if (fast) {
      img = { ...fast, fullWidth: fast.width, fullHeight: fast.height };
      box = full;
    } else if (k === 1) {
      // Decode just the box: the decoder stops after its last row and copies less.
      const region = { left: full.j, top: full.i, width: full.w, height: full.h };
      img = await decodeRgb(jpeg, { region, fullSize: probed, what });
      if (img.width !== region.width || img.height !== region.height) {
        throw new Error(`${what ?? 'image'}: header says ${probed.width}x${probed.height} but the decoded crop is ${img.width}x${img.height}`);
      }
      box = { i: 0, j: 0, h: img.height, w: img.width };
    } else {
      // Shrink-on-load (a box far larger than S): sharp's DCT-scaled decode, in both modes;
      // it costs about what a full libjpeg-turbo decode does and leaves 1/k^2 of the pixels to resize.
      img = await decodeRgb(jpeg, { shrink: k, fullSize: probed, what });
      box = scaleBox(full, img.width / probed.width, img.height / probed.height, img);
    }
  } else {
    // Not a plain JPEG (PNG behind a .JPEG name, odd headers): decode, then choose.
    img = await decodeRgb(jpeg, { what });
    box = nonEmpty(rrcParams(img.width, img.height, opts.scale, opts.ratio, rng), img.width, img.height);
  }
  const filter = opts.interpolation === 'random' ? rng.choice(BOTH) : opts.interpolation;
  // The flip is drawn here, in its place in the draw order, and done by the resize itself.
  const mirror = opts.hflip > 0 && rng.random() < opts.hflip;
  let out = resizeCrop(img, box, S, S, filter, undefined, { mirror });
  // The resized image is ours: RandAugment may work in its buffer.
  if (opts.randAugment) out = randAugmentFor(opts).apply(out, rng, { inPlace: true });
  return out;
}

export async function evalImage(jpeg: Uint8Array, opts: EvalTransformOptions, what?: string): Promise<RgbImage> {
  const S = opts.size;
  const probed = probeSize(jpeg);
  let img: DecodedImage;
  let k = 1;
  if (probed && opts.shrinkOnLoad) {
    const g = evalGeometry(probed.width, probed.height, S, opts.cropPct);
    k = shrinkFor(probed.width, probed.height, g.resizeHW[1], g.resizeHW[0]);
  }
  // 'fast' (see trainImage): the per-thread buffer is read by resizeCrop below, no await between.
  const fast = probed && k === 1 && opts.decoder === 'fast' ? decodeFast(jpeg) : null;
  if (fast) img = { ...fast, fullWidth: fast.width, fullHeight: fast.height };
  else if (k > 1) img = await decodeRgb(jpeg, { shrink: k, fullSize: probed!, what });
  else img = await decodeRgb(jpeg, { what });
  // Geometry from the full size, so a shrunk decode lands on the same grid.
  const g = evalGeometry(img.fullWidth, img.fullHeight, S, opts.cropPct);
  const [rh, rw] = g.resizeHW;
  const whole = { i: 0, j: 0, h: img.height, w: img.width };
  return resizeCrop(img, whole, rw, rh, opts.interpolation, { i: g.cropTopLeft[0], j: g.cropTopLeft[1], h: S, w: S });
}

/** Images of a few pixels can round to an empty box (timm would fail in the resize): widen to 1. */
function nonEmpty(b: CropBox, width: number, height: number): CropBox {
  if (b.w >= 1 && b.h >= 1) return b;
  return { i: Math.min(b.i, height - 1), j: Math.min(b.j, width - 1), h: Math.max(1, b.h), w: Math.max(1, b.w) };
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
