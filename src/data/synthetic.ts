// The embedded dataset: a deterministic generator of an ordinary ImageNet-layout folder of real
// JPEG files, so that the pipeline runs without ImageNet and every real-data code path (scan,
// validation, shards, decode, crops) is exercised on it.
//
// Each class is a combination of an object shape (8 kinds), a surface texture (5 kinds) and a hue.
// What varies per image, so that crops and augmentation matter: image size and aspect ratio
// (like ImageNet's mix of 4:3, 3:4, square and odd shapes), the object's position, size and
// rotation, its exact colour, a gradient background with noise, smaller clutter objects of other
// shapes and colours, and sometimes an occluding band over part of the object.
//
// Class k has the fake wnid n<k as 8 digits> (n00000000, n00000001, ...): the shape of a real
// wnid, so sorted order equals class order, and never a real WordNet id (those start at n00001740).
//
// Layout written:
//   train/<wnid>/<wnid>_<i>.JPEG
//   val/<wnid>/ILSVRC2012_val_<j>.JPEG                  (valLayout 'folders')
//   val/ILSVRC2012_val_<j>.JPEG + ground-truth files      (valLayout 'flat'):
//     LOC_val_solution.csv, ILSVRC2012_validation_ground_truth.txt and ILSVRC2012_synsets.txt (a
//     devkit-style synset order that is deliberately NOT sorted, as the real devkit's is not)
//   LOC_synset_mapping.txt                                 class names ("n00000003 solid ring, hue 0.85")
//   synthetic.json                                         the parameters, for provenance
import { mkdirSync, writeFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import pLimit from 'p-limit';
import { availableParallelism } from 'node:os';
import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { Rng, Purpose } from '../util/rng.ts';

export const SyntheticParams = Type.Object({
  classes: Type.Integer({ minimum: 2, maximum: 100000, default: 10 }),
  trainPerClass: Type.Integer({ minimum: 1, default: 80 }),
  valPerClass: Type.Integer({ minimum: 1, default: 20 }),
  seed: Type.Integer({ minimum: 0, default: 0 }),
  /** Range of the longer image side in pixels; the shorter follows from the drawn aspect ratio. */
  minSide: Type.Integer({ minimum: 32, default: 64 }),
  maxSide: Type.Integer({ minimum: 32, default: 160 }),
  quality: Type.Integer({ minimum: 1, maximum: 100, default: 90 }),
  valLayout: Type.Union([Type.Literal('folders'), Type.Literal('flat')], { default: 'folders' }),
});
export type SyntheticParams = Static<typeof SyntheticParams>;

/** Fills defaults and validates; the error names the field. */
export function resolveSyntheticParams(p: Partial<SyntheticParams> = {}): SyntheticParams {
  const clean = Object.fromEntries(Object.entries(p).filter(([, v]) => v !== undefined));
  const full = Value.Default(SyntheticParams, Value.Clone(clean));
  if (!Value.Check(SyntheticParams, full)) {
    const e = [...Value.Errors(SyntheticParams, full)][0];
    throw new Error(`synthetic dataset parameters: ${e?.path || '/'}: ${e?.message}`);
  }
  if (full.minSide > full.maxSide) throw new Error(`synthetic dataset parameters: minSide ${full.minSide} > maxSide ${full.maxSide}`);
  return full;
}

export function syntheticWnid(k: number): string {
  return `n${String(k).padStart(8, '0')}`;
}

// ---- drawing ---------------------------------------------------------------------------------

const SHAPES = ['disc', 'square', 'triangle', 'ring', 'cross', 'star', 'diamond', 'hexagon'] as const;
const TEXTURES = ['solid', 'stripes', 'checker', 'dots', 'rings'] as const;
type Shape = (typeof SHAPES)[number];
type Texture = (typeof TEXTURES)[number];

export interface ClassLook {
  shape: Shape;
  texture: Texture;
  /** Hue in [0, 1). */
  hue: number;
}

/** Class k's look: shape cycles fastest, then texture; hues spread by the golden ratio. */
export function classLook(k: number): ClassLook {
  return {
    shape: SHAPES[k % SHAPES.length],
    texture: TEXTURES[Math.floor(k / SHAPES.length) % TEXTURES.length],
    hue: (k * 0.6180339887) % 1,
  };
}

/** Inside test in the object's own frame, u and v in [-1, 1]. */
function insideShape(shape: Shape, u: number, v: number): boolean {
  const au = Math.abs(u), av = Math.abs(v);
  switch (shape) {
    case 'disc': return u * u + v * v <= 1;
    case 'square': return au <= 0.8 && av <= 0.8;
    case 'triangle': return v <= 0.75 && 1.732 * u - v <= 1 && -1.732 * u - v <= 1;
    case 'ring': { const r = u * u + v * v; return r <= 1 && r >= 0.3; }
    case 'cross': return (au <= 0.3 && av <= 0.95) || (av <= 0.3 && au <= 0.95);
    case 'star': { const r = Math.hypot(u, v); const t = Math.atan2(v, u); return r <= 0.5 + 0.45 * Math.cos(5 * t); }
    case 'diamond': return au + av <= 1;
    case 'hexagon': return Math.max(au, au * 0.5 + av * 0.866) <= 0.9;
  }
}

/** Texture modulation in [0, 1] (0: base colour, 1: the darker/lighter second colour). */
function textureAt(texture: Texture, u: number, v: number, freq: number): number {
  switch (texture) {
    case 'solid': return 0;
    case 'stripes': return Math.sin(u * freq) > 0 ? 1 : 0;
    case 'checker': return (Math.sin(u * freq) > 0) !== (Math.sin(v * freq) > 0) ? 1 : 0;
    case 'dots': { const a = Math.sin(u * freq), b = Math.sin(v * freq); return a * b > 0.45 ? 1 : 0; }
    case 'rings': return Math.sin(Math.hypot(u, v) * freq * 1.5) > 0 ? 1 : 0;
  }
}

function hsvToRgb(h: number, s: number, v: number): [number, number, number] {
  h = ((h % 1) + 1) % 1;
  const i = Math.floor(h * 6), f = h * 6 - i;
  const p = v * (1 - s), q = v * (1 - f * s), t = v * (1 - (1 - f) * s);
  const [r, g, b] = [[v, t, p], [q, v, p], [p, v, t], [p, q, v], [t, p, v], [v, p, q]][i % 6];
  return [Math.round(r * 255), Math.round(g * 255), Math.round(b * 255)];
}

interface Placed {
  shape: Shape;
  texture: Texture;
  cx: number; cy: number; radius: number; angle: number; freq: number;
  c1: [number, number, number]; c2: [number, number, number];
}

/** Paints one object; returns its bounding box clipped to the image [x0, y0, x1, y1]. */
function paint(img: Uint8Array, w: number, h: number, o: Placed): [number, number, number, number] {
  const x0 = Math.max(0, Math.floor(o.cx - o.radius)), x1 = Math.min(w - 1, Math.ceil(o.cx + o.radius));
  const y0 = Math.max(0, Math.floor(o.cy - o.radius)), y1 = Math.min(h - 1, Math.ceil(o.cy + o.radius));
  const cos = Math.cos(o.angle), sin = Math.sin(o.angle);
  let bx0 = w, by0 = h, bx1 = -1, by1 = -1;
  for (let y = y0; y <= y1; y++) {
    for (let x = x0; x <= x1; x++) {
      const dx = (x + 0.5 - o.cx) / o.radius, dy = (y + 0.5 - o.cy) / o.radius;
      const u = dx * cos + dy * sin, v = -dx * sin + dy * cos;
      if (!insideShape(o.shape, u, v)) continue;
      const c = textureAt(o.texture, u, v, o.freq) ? o.c2 : o.c1;
      const p = (y * w + x) * 3;
      img[p] = c[0]; img[p + 1] = c[1]; img[p + 2] = c[2];
      if (x < bx0) bx0 = x; if (x > bx1) bx1 = x; if (y < by0) by0 = y; if (y > by1) by1 = y;
    }
  }
  return bx1 < 0 ? [0, 0, 0, 0] : [bx0, by0, bx1, by1];
}

function clampByte(x: number): number {
  return x < 0 ? 0 : x > 255 ? 255 : Math.round(x);
}

export interface DrawnImage {
  width: number;
  height: number;
  /** RGB, HWC, uint8. */
  pixels: Uint8Array;
  /** Bounding box of the class object [x0, y0, x1, y1] (written into LOC_val_solution.csv). */
  box: [number, number, number, number];
}

/** Image size: longer side uniform in [minSide, maxSide], aspect like ImageNet's mix. */
function drawSize(rng: Rng, p: SyntheticParams): [number, number] {
  const long = rng.randint(p.minSide, p.maxSide);
  const u = rng.random();
  // ~60 % landscape 4:3, 20 % portrait 3:4, 10 % square, 10 % anything in 1:2 .. 2:1.
  const ratio = u < 0.6 ? 4 / 3 : u < 0.8 ? 3 / 4 : u < 0.9 ? 1 : Math.exp(rng.uniform(Math.log(0.5), Math.log(2)));
  const short = Math.max(16, Math.round(long / Math.max(ratio, 1 / ratio)));
  return ratio >= 1 ? [long, short] : [short, long];
}

/** Draws one image of class `k`. Deterministic in (rng state, k, params). */
export function drawImage(rng: Rng, k: number, p: SyntheticParams): DrawnImage {
  const [w, h] = drawSize(rng, p);
  const img = new Uint8Array(w * h * 3);
  // Background: a vertical-ish gradient between two muted random colours, with pixel noise.
  const bgA = hsvToRgb(rng.random(), rng.uniform(0.05, 0.4), rng.uniform(0.3, 0.95));
  const bgB = hsvToRgb(rng.random(), rng.uniform(0.05, 0.4), rng.uniform(0.3, 0.95));
  const gAngle = rng.uniform(0, Math.PI);
  const gx = Math.cos(gAngle) / w, gy = Math.sin(gAngle) / h;
  const noise = rng.uniform(2, 14);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const t = Math.min(1, Math.max(0, 0.5 + (x - w / 2) * gx + (y - h / 2) * gy));
      const p = (y * w + x) * 3;
      for (let c = 0; c < 3; c++) img[p + c] = clampByte(bgA[c] + (bgB[c] - bgA[c]) * t + (rng.random() - 0.5) * 2 * noise);
    }
  }
  const short = Math.min(w, h);
  // Clutter: small objects of random shapes and colours, drawn before (under) the class object.
  const clutter = rng.randint(2, 7);
  for (let i = 0; i < clutter; i++) {
    paint(img, w, h, {
      shape: rng.choice(SHAPES),
      texture: rng.choice(TEXTURES),
      cx: rng.uniform(0, w), cy: rng.uniform(0, h),
      radius: short * rng.uniform(0.05, 0.16),
      angle: rng.uniform(0, 2 * Math.PI),
      freq: rng.uniform(6, 14),
      c1: hsvToRgb(rng.random(), rng.uniform(0.2, 1), rng.uniform(0.3, 1)),
      c2: hsvToRgb(rng.random(), rng.uniform(0.2, 1), rng.uniform(0.2, 0.8)),
    });
  }
  // The class object: its shape, texture and hue; size, place, rotation and shade vary.
  const look = classLook(k);
  const radius = short * rng.uniform(0.22, 0.45);
  const hue = look.hue + rng.uniform(-0.04, 0.04);
  const sat = rng.uniform(0.55, 1), val = rng.uniform(0.55, 1);
  const box = paint(img, w, h, {
    shape: look.shape,
    texture: look.texture,
    cx: rng.uniform(radius * 0.7, w - radius * 0.7),
    cy: rng.uniform(radius * 0.7, h - radius * 0.7),
    radius,
    angle: rng.uniform(0, 2 * Math.PI),
    freq: rng.uniform(7, 12),
    c1: hsvToRgb(hue, sat, val),
    c2: hsvToRgb(hue, sat * 0.6, val * 0.45),
  });
  // Occlusion: half of the images get a band of background-like colour across the object.
  if (rng.random() < 0.5) {
    const occ = hsvToRgb(rng.random(), rng.uniform(0, 0.3), rng.uniform(0.2, 0.9));
    const vertical = rng.random() < 0.5;
    const [bx0, by0, bx1, by1] = box;
    const span = vertical ? bx1 - bx0 : by1 - by0;
    const thick = Math.max(1, Math.round(span * rng.uniform(0.15, 0.35)));
    const start = Math.round((vertical ? bx0 : by0) + rng.uniform(0, Math.max(0, span - thick)));
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const q = vertical ? x : y;
        if (q < start || q >= start + thick) continue;
        const p = (y * w + x) * 3;
        img[p] = occ[0]; img[p + 1] = occ[1]; img[p + 2] = occ[2];
      }
    }
  }
  return { width: w, height: h, pixels: img, box };
}

// ---- writing the folder ----------------------------------------------------------------------

const SPLIT_TRAIN = 0;
const SPLIT_VAL = 1;

export interface SyntheticResult {
  params: SyntheticParams;
  wnids: string[];
  trainFiles: number;
  valFiles: number;
  seconds: number;
}

async function writeJpeg(file: string, d: DrawnImage, quality: number): Promise<void> {
  const buf = await sharp(d.pixels, { raw: { width: d.width, height: d.height, channels: 3 } })
    .jpeg({ quality })
    .toBuffer();
  const tmp = `${file}.tmp`;
  writeFileSync(tmp, buf);
  renameSync(tmp, file);
}

/**
 * Writes the dataset under `outDir`. Equal params give byte-identical files (sharp's JPEG encoder
 * is deterministic for a given build), whatever `concurrency` is.
 */
export async function generateSyntheticDataset(
  outDir: string,
  params: Partial<SyntheticParams> = {},
  opts: { concurrency?: number } = {},
): Promise<SyntheticResult> {
  const p = resolveSyntheticParams(params);
  const t0 = performance.now();
  const limit = pLimit(Math.max(1, opts.concurrency ?? availableParallelism()));
  const wnids = Array.from({ length: p.classes }, (_, k) => syntheticWnid(k));
  const jobs: Promise<void>[] = [];

  for (let k = 0; k < p.classes; k++) {
    const dir = join(outDir, 'train', wnids[k]);
    mkdirSync(dir, { recursive: true });
    for (let i = 0; i < p.trainPerClass; i++) {
      jobs.push(limit(() => writeJpeg(join(dir, `${wnids[k]}_${i}.JPEG`), drawImage(new Rng(p.seed, Purpose.dataset, SPLIT_TRAIN, k, i), k, p), p.quality)));
    }
  }

  // Validation images are numbered 1..N in a shuffled class order, as ImageNet's are, so a flat
  // val folder is not sorted by class.
  const nVal = p.classes * p.valPerClass;
  const order = new Rng(p.seed, Purpose.dataset, SPLIT_VAL, 0xffffffff).permutation(nVal);
  const valClass = new Int32Array(nVal);
  const boxes: [number, number, number, number][] = new Array(nVal);
  if (p.valLayout === 'flat') mkdirSync(join(outDir, 'val'), { recursive: true });
  else for (const w of wnids) mkdirSync(join(outDir, 'val', w), { recursive: true });
  for (let j = 0; j < nVal; j++) {
    const k = Math.floor(order[j] / p.valPerClass);
    const i = order[j] % p.valPerClass;
    valClass[j] = k;
    const name = `ILSVRC2012_val_${String(j + 1).padStart(8, '0')}.JPEG`;
    const file = p.valLayout === 'flat' ? join(outDir, 'val', name) : join(outDir, 'val', wnids[k], name);
    jobs.push(
      limit(async () => {
        const d = drawImage(new Rng(p.seed, Purpose.dataset, SPLIT_VAL, k, i), k, p);
        boxes[j] = d.box;
        await writeJpeg(file, d, p.quality);
      }),
    );
  }
  await Promise.all(jobs);

  if (p.valLayout === 'flat') {
    const loc = ['ImageId,PredictionString'];
    for (let j = 0; j < nVal; j++) {
      loc.push(`ILSVRC2012_val_${String(j + 1).padStart(8, '0')},${wnids[valClass[j]]} ${boxes[j].join(' ')} `);
    }
    writeFileSync(join(outDir, 'LOC_val_solution.csv'), loc.join('\n') + '\n');
    // Devkit style: IDs 1..C in a shuffled synset order; the ground truth lists IDs.
    const devkitOrder = new Rng(p.seed, Purpose.dataset, SPLIT_VAL, 0xfffffffe).permutation(p.classes);
    const idOfClass = new Int32Array(p.classes);
    devkitOrder.forEach((k, pos) => (idOfClass[k] = pos + 1));
    writeFileSync(join(outDir, 'ILSVRC2012_synsets.txt'), Array.from(devkitOrder, (k) => `${wnids[k]} synthetic class ${k}`).join('\n') + '\n');
    writeFileSync(join(outDir, 'ILSVRC2012_validation_ground_truth.txt'), Array.from(valClass, (k) => String(idOfClass[k])).join('\n') + '\n');
  }
  // Class names in the Kaggle release's format, so classes.json and reports can say what a class is.
  writeFileSync(
    join(outDir, 'LOC_synset_mapping.txt'),
    wnids.map((w, k) => { const l = classLook(k); return `${w} ${l.texture} ${l.shape}, hue ${l.hue.toFixed(2)}`; }).join('\n') + '\n',
  );
  writeFileSync(join(outDir, 'synthetic.json'), JSON.stringify({ generator: 'rsb-pipeline synthetic', params: p, wnids, looks: wnids.map((_, k) => classLook(k)) }, null, 1));
  return { params: p, wnids, trainFiles: p.classes * p.trainPerClass, valFiles: nVal, seconds: (performance.now() - t0) / 1000 };
}
