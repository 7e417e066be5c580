// Settings of the train and eval transforms, as typebox schemas: they cross the boundary
// from the recipe (recipes/schema.ts TrainData / EvalData) to the loader's workers.
import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import type { EvalData, TrainData } from '../../../recipes/schema.ts';

const Triple = (what: string) => Type.Tuple([Type.Number(), Type.Number(), Type.Number()], { description: what });

export const ResampleName = Type.Union([Type.Literal('bilinear'), Type.Literal('bicubic')]);

/**
 * 'exact': sharp (libvips), pixel-identical to Pillow. 'fast': libjpeg-turbo's fast integer
 * IDCT for plain JPEGs (~4x cheaper, pixels within a few levels; decode-fast.ts), sharp for
 * the rest and whenever the optional binding is absent. Training defaults to 'fast' (its
 * pixels are drowned in augmentation), evaluation to 'exact' (comparable to timm's numbers).
 */
export const DecoderName = Type.Union([Type.Literal('exact'), Type.Literal('fast')], { description: "JPEG decoder: 'exact' (sharp, as Pillow) or 'fast' (libjpeg-turbo fast IDCT where it applies)" });
export type DecoderName = Static<typeof DecoderName>;

export const TrainTransformOptions = Type.Object({
  size: Type.Integer({ minimum: 1, description: 'output side S (the crop is resized to S x S)' }),
  scale: Type.Tuple([Type.Number({ minimum: 0 }), Type.Number({ minimum: 0 })], { description: 'RRC area fraction range' }),
  ratio: Type.Tuple([Type.Number({ exclusiveMinimum: 0 }), Type.Number({ exclusiveMinimum: 0 })], { description: 'RRC aspect range (log-uniform)' }),
  interpolation: Type.Union([ResampleName, Type.Literal('random')], { description: "'random': bilinear or bicubic per image (and per RandAugment op)" }),
  hflip: Type.Number({ minimum: 0, maximum: 1, description: 'horizontal flip probability' }),
  randAugment: Type.Union([Type.String(), Type.Null()], { description: "timm config string such as 'rand-m7-mstd0.5-inc1'; null: off" }),
  mean: Triple('normalisation mean in [0,1] units; RandAugment fills with round(255 * mean)'),
  shrinkOnLoad: Type.Boolean({ description: 'let the JPEG decoder downscale by 2/4/8 when the crop box is far larger than S (approximates the full-size resample)' }),
  decoder: DecoderName,
});
export type TrainTransformOptions = Static<typeof TrainTransformOptions>;

export const EvalTransformOptions = Type.Object({
  size: Type.Integer({ minimum: 1, description: 'centre-crop side S' }),
  cropPct: Type.Number({ exclusiveMinimum: 0, maximum: 1, description: 'resize the shorter side to floor(S / cropPct)' }),
  interpolation: ResampleName,
  shrinkOnLoad: Type.Boolean({ description: 'let the JPEG decoder downscale by 2/4/8 when the image is far larger than needed' }),
  decoder: DecoderName,
});
export type EvalTransformOptions = Static<typeof EvalTransformOptions>;

/** The RSB defaults at S = 224 (A1/A2); override what differs. */
export function trainOptions(over: Partial<TrainTransformOptions> = {}): TrainTransformOptions {
  return checked(TrainTransformOptions, {
    size: 224,
    scale: [0.08, 1],
    ratio: [3 / 4, 4 / 3],
    interpolation: 'random',
    hflip: 0.5,
    randAugment: 'rand-m7-mstd0.5-inc1',
    mean: [0.485, 0.456, 0.406],
    shrinkOnLoad: true,
    decoder: 'fast',
    ...over,
  }, 'train transform options');
}

/** The RSB evaluation protocol: 224, crop_pct 0.95, bicubic, decoded exactly as Pillow does. */
export function evalOptions(over: Partial<EvalTransformOptions> = {}): EvalTransformOptions {
  return checked(EvalTransformOptions, { size: 224, cropPct: 0.95, interpolation: 'bicubic', shrinkOnLoad: true, decoder: 'exact', ...over }, 'eval transform options');
}

/** The fields of a recipe's train block (recipes/schema.ts) that the train transform reads. */
export type RecipeTrainData = Pick<TrainData, 'resolution' | 'rrcScale' | 'rrcRatio' | 'interpolation' | 'hflip' | 'randAugment' | 'mean'>;

export function trainOptionsFromRecipe(d: RecipeTrainData, over: Partial<TrainTransformOptions> = {}): TrainTransformOptions {
  return trainOptions({
    size: d.resolution, scale: d.rrcScale, ratio: d.rrcRatio, interpolation: d.interpolation,
    hflip: d.hflip, randAugment: d.randAugment, mean: d.mean, ...over,
  });
}

export function evalOptionsFromRecipe(
  d: Pick<EvalData, 'resolution' | 'cropPct' | 'interpolation'>,
  over: Partial<EvalTransformOptions> = {},
): EvalTransformOptions {
  return evalOptions({ size: d.resolution, cropPct: d.cropPct, interpolation: d.interpolation, ...over });
}

function checked<T>(schema: Parameters<typeof Value.Check>[0], v: T, what: string): T {
  if (!Value.Check(schema, v)) {
    const e = [...Value.Errors(schema, v)][0];
    throw new Error(`${what}: ${e?.path || '/'} ${e?.message ?? 'invalid'}`);
  }
  return v;
}
