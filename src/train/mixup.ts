// Mixup / CutMix in timm's batch mode, on NHWC batches (uint8 from the loader, or float32).
//
// Split in two steps so the random part can be replaced: `drawMix` makes every random draw
// for one batch from the caller's Rng (in timm's order), `applyMix` is a pure function of
// the batch and those draws. The golden conformance adapter feeds timm's recorded draws
// straight into applyMix.
//
// Semantics (timm Mixup/FastCollateMixup, mode 'batch'):
// - with probability `prob` the batch is mixed at all; then cutmix is chosen with
//   probability `switchProb` (when both alphas are on), and ONE lambda ~ Beta(alpha, alpha)
//   serves the whole batch;
// - sample i is paired with sample B-1-i (the batch reversed, not shuffled);
// - mixup: x_i = lam*x_i + (1-lam)*x_{B-1-i} in float32; for uint8 batches rounded half to
//   even back to uint8 (timm's collate path mixes raw pixels that way);
// - cutmix: one box for the batch (randBox), pixels in it copied from the partner, and lam
//   corrected to the fraction of the own image that survives (boxes clip at the border);
// - targets: lam*onehot_s(t_i) + (1-lam)*onehot_s(t_{B-1-i}), smoothed with off = s/C,
//   on = 1 - s + s/C (float32, B x C).
import type { Rng } from '../util/rng.ts';

export interface MixConfig {
  mixupAlpha: number;
  cutmixAlpha: number;
  /** Probability that a batch is mixed at all. */
  prob: number;
  /** Probability of cutmix when both alphas are > 0. */
  switchProb: number;
  /** Recompute cutmix lambda from the clipped box. */
  correctLam: boolean;
  labelSmoothing: number;
  numClasses: number;
}

/** Every random value one batch needs. cy/cx are only meaningful when useCutmix. */
export interface MixDraws {
  /** False: the batch is not mixed (lam = 1), targets are still smoothed one-hots. */
  mixed: boolean;
  useCutmix: boolean;
  /** The Beta draw, before any cutmix correction. */
  lam: number;
  /** Box centre row in [0, H) and column in [0, W). */
  cy: number;
  cx: number;
}

/** Half-open cutmix box: rows [yl, yh), columns [xl, xh). */
export interface Box {
  yl: number;
  yh: number;
  xl: number;
  xh: number;
}

export interface MixResult<T extends Uint8Array | Float32Array> {
  images: T;
  /** B x numClasses, row-major. */
  targets: Float32Array;
  /** The lambda used for the targets (corrected for cutmix). */
  lam: number;
  box: Box | null;
}

/** Draws in timm's order: mix?, cutmix?, Beta, then box centre row, column. */
export function drawMix(rng: Rng, cfg: MixConfig, height: number, width: number): MixDraws {
  const none: MixDraws = { mixed: false, useCutmix: false, lam: 1, cy: 0, cx: 0 };
  const mixupOn = cfg.mixupAlpha > 0;
  const cutmixOn = cfg.cutmixAlpha > 0;
  if (!(mixupOn || cutmixOn)) return none;
  if (!(rng.random() < cfg.prob)) return none;
  let useCutmix: boolean;
  if (mixupOn && cutmixOn) useCutmix = rng.random() < cfg.switchProb;
  else useCutmix = cutmixOn;
  const alpha = useCutmix ? cfg.cutmixAlpha : cfg.mixupAlpha;
  const lam = rng.beta(alpha, alpha);
  if (!useCutmix) return { mixed: true, useCutmix, lam, cy: 0, cx: 0 };
  const cy = rng.randint(0, height - 1);
  const cx = rng.randint(0, width - 1);
  return { mixed: true, useCutmix, lam, cy, cx };
}

const clip = (v: number, lo: number, hi: number) => Math.min(Math.max(v, lo), hi);

/**
 * timm's rand_bbox with the centre given: a box of cut = floor(size*sqrt(1-lam)) per side,
 * centred at (cy, cx), half-extent floor(cut/2) each way, clipped to the image. With
 * correctLam the returned lam is 1 - area/(H*W).
 */
export function randBox(height: number, width: number, lam: number, cy: number, cx: number, correctLam = true): { box: Box; lam: number } {
  if (!(lam >= 0 && lam <= 1)) throw new RangeError(`randBox: lam ${lam} outside [0, 1]`);
  if (!(cy >= 0 && cy < height && cx >= 0 && cx < width)) throw new RangeError(`randBox: centre (${cy}, ${cx}) outside ${height}x${width}`);
  const ratio = Math.sqrt(1 - lam);
  const cutH = Math.trunc(height * ratio);
  const cutW = Math.trunc(width * ratio);
  const box = {
    yl: clip(cy - Math.floor(cutH / 2), 0, height),
    yh: clip(cy + Math.floor(cutH / 2), 0, height),
    xl: clip(cx - Math.floor(cutW / 2), 0, width),
    xh: clip(cx + Math.floor(cutW / 2), 0, width),
  };
  const area = (box.yh - box.yl) * (box.xh - box.xl);
  return { box, lam: correctLam ? 1 - area / (height * width) : lam };
}

/** Round half to even (numpy rint), for values already in [0, 255]. */
function rint(v: number): number {
  const f = Math.floor(v);
  const d = v - f;
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

/** Mixed targets: lam*onehot_s(t_i) + (1-lam)*onehot_s(t_{B-1-i}), float32 arithmetic like torch. */
export function mixTargets(labels: ArrayLike<number>, lam: number, numClasses: number, smoothing: number): Float32Array {
  const b = labels.length;
  const off = Math.fround(smoothing / numClasses);
  const on = Math.fround(1 - smoothing + smoothing / numClasses);
  const lam32 = Math.fround(lam);
  const rest32 = Math.fround(1 - lam);
  const out = new Float32Array(b * numClasses);
  for (let i = 0; i < b; i++) {
    const own = labels[i];
    const partner = labels[b - 1 - i];
    for (const t of [own, partner]) {
      if (!Number.isInteger(t) || t < 0 || t >= numClasses) throw new RangeError(`mixTargets: label ${t} outside 0..${numClasses - 1}`);
    }
    for (let c = 0; c < numClasses; c++) {
      const y1 = c === own ? on : off;
      const y2 = c === partner ? on : off;
      out[i * numClasses + c] = Math.fround(Math.fround(y1 * lam32) + Math.fround(y2 * rest32));
    }
  }
  return out;
}

/**
 * Applies the draws to an NHWC batch (B x H x W x C, row-major). Returns a new array of the
 * same type; the input is not modified. B must be even (timm asserts it too: the reversed
 * pairing of an odd batch would mix the middle sample with itself).
 */
export function applyMix<T extends Uint8Array | Float32Array>(
  images: T,
  labels: ArrayLike<number>,
  shape: { batch: number; height: number; width: number; channels: number },
  draws: MixDraws,
  cfg: Pick<MixConfig, 'correctLam' | 'labelSmoothing' | 'numClasses'>,
): MixResult<T> {
  const { batch: b, height: h, width: w, channels: ch } = shape;
  if (images.length !== b * h * w * ch) throw new RangeError(`applyMix: ${images.length} values for a ${b}x${h}x${w}x${ch} batch`);
  if (labels.length !== b) throw new RangeError(`applyMix: ${labels.length} labels for a batch of ${b}`);
  if (b % 2 !== 0) throw new RangeError(`applyMix: batch size must be even, got ${b}`);
  const out = images.slice() as T;
  let lam = draws.mixed ? draws.lam : 1;
  let box: Box | null = null;
  if (draws.mixed && draws.useCutmix) {
    const r = randBox(h, w, draws.lam, draws.cy, draws.cx, cfg.correctLam);
    box = r.box;
    lam = r.lam;
  }
  if (lam !== 1) {
    const per = h * w * ch;
    if (box) {
      const rowLen = (box.xh - box.xl) * ch;
      for (let i = 0; i < b; i++) {
        const j = b - 1 - i;
        for (let y = box.yl; y < box.yh; y++) {
          const start = (y * w + box.xl) * ch;
          out.set(images.subarray(j * per + start, j * per + start + rowLen), i * per + start);
        }
      }
    } else {
      const lam32 = Math.fround(lam);
      const rest32 = Math.fround(1 - lam);
      const round = images instanceof Uint8Array;
      for (let i = 0; i < b; i++) {
        const a = i * per;
        const p = (b - 1 - i) * per;
        for (let k = 0; k < per; k++) {
          const v = Math.fround(Math.fround(images[a + k] * lam32) + Math.fround(images[p + k] * rest32));
          out[a + k] = round ? rint(v) : v;
        }
      }
    }
  }
  return { images: out, targets: mixTargets(labels, lam, cfg.numClasses, cfg.labelSmoothing), lam, box };
}

/** The mix settings of a recipe, in the shape drawMix/applyMix take. */
export function mixConfigFromRecipe(r: {
  mix: { mixupAlpha: number; cutmixAlpha: number; prob: number; switchProb: number; correctLam: boolean };
  labelSmoothing: number;
  model: { numClasses: number };
}): MixConfig {
  const { mixupAlpha, cutmixAlpha, prob, switchProb, correctLam } = r.mix;
  return { mixupAlpha, cutmixAlpha, prob, switchProb, correctLam, labelSmoothing: r.labelSmoothing, numClasses: r.model.numClasses };
}
