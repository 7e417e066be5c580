// timm's RandAugment (spec 2.4): the config string, the 15 ops of the "increasing" set,
// the magnitude -> argument maps, and one AugmentOp application with its draws in timm's
// order: apply check, magnitude noise, sign, interpolation.
import type { RgbImage } from './image.ts';
import type { RandomSource } from './random-source.ts';
import type { ResampleFilter } from './resample.ts';
import { pyRound } from './pymath.ts';
import { invert, posterize, solarize, solarizeAdd } from './point.ts';
import { autoContrast, equalize } from './histogram.ts';
import { brightness, color, contrast, sharpness } from './enhance.ts';
import { rotate, shearX, shearY, translateXRel, translateYRel, type Rgb } from './geometric.ts';

/** timm's _LEVEL_DENOM: magnitudes live in [0, 10]. */
export const LEVEL_DENOM = 10;

export const INCREASING_OPS = [
  'AutoContrast', 'Equalize', 'Invert', 'Rotate', 'PosterizeIncreasing', 'SolarizeIncreasing',
  'SolarizeAdd', 'ColorIncreasing', 'ContrastIncreasing', 'BrightnessIncreasing',
  'SharpnessIncreasing', 'ShearX', 'ShearY', 'TranslateXRel', 'TranslateYRel',
] as const;
export type OpName = (typeof INCREASING_OPS)[number];

export interface RandAugmentConfig {
  /** magnitude M */
  magnitude: number;
  /** ops per image */
  numOps: number;
  /** probability that each drawn op is applied */
  prob: number;
  /** std of the Gaussian magnitude noise; Infinity: uniform in [0, M]; 0: none */
  magnitudeStd: number;
  /** upper clip of the noisy magnitude (null: LEVEL_DENOM) */
  magnitudeMax: number | null;
  /** which op set; only timm's increasing set is implemented (RSB uses nothing else) */
  increasing: boolean;
}

/**
 * Parses 'rand-m7-mstd0.5-inc1'. Sections are split at their first digit, as timm does;
 * sections without a digit are ignored. `inc` is true for any non-empty value, so `inc0`
 * also selects the increasing set (timm tests the string's truthiness).
 */
export function parseRandAugment(config: string): RandAugmentConfig {
  const parts = config.split('-');
  if (parts[0] !== 'rand') throw new Error(`RandAugment config '${config}': must start with 'rand'`);
  const cfg: RandAugmentConfig = { magnitude: LEVEL_DENOM, numOps: 2, prob: 0.5, magnitudeStd: 0, magnitudeMax: null, increasing: false };
  for (const part of parts.slice(1)) {
    const at = part.search(/\d/);
    if (at < 0) continue;
    const key = part.slice(0, at);
    const val = part.slice(at);
    const num = (integer: boolean) => {
      const v = Number(val);
      if (!Number.isFinite(v) || (integer && !Number.isInteger(v))) {
        throw new Error(`RandAugment config '${config}': '${part}' needs ${integer ? 'an integer' : 'a number'}`);
      }
      return v;
    };
    switch (key) {
      case 'm': cfg.magnitude = num(true); break;
      case 'n': cfg.numOps = num(true); break;
      case 'p': cfg.prob = num(false); break;
      case 'mstd': {
        const s = num(false);
        cfg.magnitudeStd = s > 100 ? Infinity : s;
        break;
      }
      case 'mmax': cfg.magnitudeMax = num(true); break;
      case 'inc': cfg.increasing = val.length > 0; break;
      default:
        throw new Error(`RandAugment config '${config}': unknown section '${part}' (known: m n p mstd mmax inc)`);
    }
  }
  if (!cfg.increasing) {
    throw new Error(`RandAugment config '${config}': only the increasing op set (inc1) is implemented, as the RSB recipes use`);
  }
  return cfg;
}

/** What a level function returns: the op's arguments. */
export type LevelArgs = number[];

const negate = (v: number, rnd: RandomSource) => (rnd.random() > 0.5 ? -v : v);

/** Magnitude -> op argument(s); draws the random sign where timm does. */
export const LEVEL_FNS: Record<OpName, ((m: number, rnd: RandomSource) => LevelArgs) | null> = {
  AutoContrast: null,
  Equalize: null,
  Invert: null,
  Rotate: (m, rnd) => [negate((m / LEVEL_DENOM) * 30, rnd)],
  PosterizeIncreasing: (m) => [4 - Math.trunc((m / LEVEL_DENOM) * 4)],
  SolarizeIncreasing: (m) => [256 - Math.min(256, Math.trunc((m / LEVEL_DENOM) * 256))],
  SolarizeAdd: (m) => [Math.min(128, Math.trunc((m / LEVEL_DENOM) * 110))],
  ColorIncreasing: enhanceLevel,
  ContrastIncreasing: enhanceLevel,
  BrightnessIncreasing: enhanceLevel,
  SharpnessIncreasing: enhanceLevel,
  ShearX: (m, rnd) => [negate((m / LEVEL_DENOM) * 0.3, rnd)],
  ShearY: (m, rnd) => [negate((m / LEVEL_DENOM) * 0.3, rnd)],
  TranslateXRel: (m, rnd) => [negate((m / LEVEL_DENOM) * 0.45, rnd)],
  TranslateYRel: (m, rnd) => [negate((m / LEVEL_DENOM) * 0.45, rnd)],
};

function enhanceLevel(m: number, rnd: RandomSource): LevelArgs {
  return [Math.max(0.1, 1 + negate((m / LEVEL_DENOM) * 0.9, rnd))];
}

const GEOMETRIC = new Set<OpName>(['Rotate', 'ShearX', 'ShearY', 'TranslateXRel', 'TranslateYRel']);

/**
 * Ops whose every output byte depends only on the same pixel (and image-wide statistics
 * taken first), so they may write over their input.
 */
export const IN_PLACE_OPS: ReadonlySet<OpName> = new Set<OpName>([
  'AutoContrast', 'Equalize', 'Invert', 'PosterizeIncreasing', 'SolarizeIncreasing', 'SolarizeAdd',
  'ColorIncreasing', 'ContrastIncreasing', 'BrightnessIncreasing',
]);

/**
 * Applies op `name` with its arguments (no randomness). The result is a new image, or is
 * written into `into`, which may be `img.data` itself for the ops in IN_PLACE_OPS only.
 */
export function applyOp(img: RgbImage, name: OpName, args: LevelArgs, filter: ResampleFilter, fill: Rgb, into?: Uint8Array): RgbImage {
  switch (name) {
    case 'AutoContrast': return autoContrast(img, into);
    case 'Equalize': return equalize(img, into);
    case 'Invert': return invert(img, into);
    case 'Rotate': return rotate(img, args[0], filter, fill, into);
    case 'PosterizeIncreasing': return posterize(img, args[0], into);
    case 'SolarizeIncreasing': return solarize(img, args[0], into);
    case 'SolarizeAdd': return solarizeAdd(img, args[0], 128, into);
    case 'ColorIncreasing': return color(img, args[0], into);
    case 'ContrastIncreasing': return contrast(img, args[0], into);
    case 'BrightnessIncreasing': return brightness(img, args[0], into);
    case 'SharpnessIncreasing': return sharpness(img, args[0], into);
    case 'ShearX': return shearX(img, args[0], filter, fill, into);
    case 'ShearY': return shearY(img, args[0], filter, fill, into);
    case 'TranslateXRel': return translateXRel(img, args[0], filter, fill, into);
    case 'TranslateYRel': return translateYRel(img, args[0], filter, fill, into);
  }
}

export interface OpSettings {
  prob: number;
  magnitude: number;
  magnitudeStd: number;
  magnitudeMax: number | null;
  /** interpolations the geometric ops choose from, one draw per application */
  resampleChoices: readonly ResampleFilter[];
  fill: Rgb;
}

export interface OpOutcome {
  image: RgbImage;
  applied: boolean;
  magnitude: number | null;
  args: LevelArgs;
  resample: ResampleFilter | null;
}

/** The noisy magnitude: M + std*z (or uniform in [0, M]), clipped to [0, mmax or 10]. */
export function noisyMagnitude(s: Pick<OpSettings, 'magnitude' | 'magnitudeStd' | 'magnitudeMax'>, rnd: RandomSource): number {
  let m = s.magnitude;
  if (s.magnitudeStd === Infinity) m = rnd.uniform(0, m);
  else if (s.magnitudeStd > 0) m = rnd.gauss(m, s.magnitudeStd);
  const upper = s.magnitudeMax || LEVEL_DENOM; // timm: `magnitude_max or _LEVEL_DENOM`
  return Math.max(0, Math.min(m, upper));
}

/**
 * One AugmentOp call: draws, in order, apply check, magnitude noise, sign, interpolation.
 * `target(name)` picks the buffer the op writes into (default: a new one).
 */
export function augmentOp(img: RgbImage, name: OpName, s: OpSettings, rnd: RandomSource, target?: (name: OpName) => Uint8Array): OpOutcome {
  if (s.prob < 1 && rnd.random() > s.prob) return { image: img, applied: false, magnitude: null, args: [], resample: null };
  const magnitude = noisyMagnitude(s, rnd);
  const level = LEVEL_FNS[name];
  const args = level ? level(magnitude, rnd) : [];
  let resample: ResampleFilter | null = null;
  if (GEOMETRIC.has(name)) {
    resample = s.resampleChoices.length === 1 ? s.resampleChoices[0] : rnd.choice(s.resampleChoices);
  }
  return { image: applyOp(img, name, args, resample ?? 'bilinear', s.fill, target?.(name)), applied: true, magnitude, args, resample };
}

/** fill colour = round(255 * mean) per channel, timm's img_mean hparam. */
export function fillFromMean(mean: readonly [number, number, number]): Rgb {
  return [pyRound(255 * mean[0]), pyRound(255 * mean[1]), pyRound(255 * mean[2])];
}

/** A ready RandAugment: n ops drawn uniformly with replacement, then applied in order. */
export class RandAugment {
  readonly config: RandAugmentConfig;
  private readonly settings: OpSettings;

  constructor(config: string | RandAugmentConfig, opts: { fill: Rgb; resampleChoices: readonly ResampleFilter[] }) {
    this.config = typeof config === 'string' ? parseRandAugment(config) : config;
    if (opts.resampleChoices.length === 0) throw new Error('RandAugment: no interpolation to choose from');
    this.settings = {
      prob: this.config.prob, magnitude: this.config.magnitude, magnitudeStd: this.config.magnitudeStd,
      magnitudeMax: this.config.magnitudeMax, resampleChoices: opts.resampleChoices, fill: opts.fill,
    };
  }

  /** A buffer kept between calls for ops that cannot write over their input. */
  private spare: Uint8Array | null = null;

  /**
   * Draws and applies the ops. With `inPlace` the input's buffer is the caller's to give
   * up: ops write over it where they can, else into a buffer this instance keeps, and the
   * result comes back in the input's buffer. That allocates nothing per image (fresh
   * 150 KB buffers per op cost page zeroing, cache misses and garbage collection). Without
   * it the input is left untouched.
   */
  apply(img: RgbImage, rnd: RandomSource, opts: { inPlace?: boolean } = {}): RgbImage {
    const ops: OpName[] = [];
    for (let k = 0; k < this.config.numOps; k++) ops.push(INCREASING_OPS[rnd.randint(0, INCREASING_OPS.length - 1)]);
    if (!opts.inPlace) {
      for (const name of ops) img = augmentOp(img, name, this.settings, rnd).image;
      return img;
    }
    const own = img.data;
    const n = own.length;
    if (!this.spare || this.spare.length !== n) this.spare = new Uint8Array(n);
    let cur = img;
    for (const name of ops) {
      const spare = this.spare;
      const other = cur.data === own ? spare : own;
      // In-place ops keep the current buffer; the others write into the other one.
      const res = augmentOp(cur, name, this.settings, rnd, (op) => (IN_PLACE_OPS.has(op) ? cur.data : other)).image;
      cur = res;
    }
    if (cur.data !== own) own.set(cur.data);
    return { width: img.width, height: img.height, data: own };
  }
}
