// Golden adapter: timm's eval transform for resnet50.a1_in1k on a raw image. The
// resampler is checked with the README's loose bounds (mean and max difference);
// geometry exactly; normalisation exactly on the golden's own crop.
import type { GoldenCase } from '../format.ts';
import { decodeTensor } from '../format.ts';
import { allClose, exactEqual, type Check } from '../compare.ts';
import { evalGeometry, evalTransform } from '../../data/transforms/eval.ts';
import { normalizeToFloat32 } from '../../data/transforms/normalize.ts';
import { makeImage } from '../../data/transforms/image.ts';

interface DataConfig { input_size: [number, number, number]; interpolation: string; mean: [number, number, number]; std: [number, number, number]; crop_pct: number }

export function run(c: GoldenCase): Check[] {
  const e = c.expected as { data_config: DataConfig; resize_size_hw: [number, number]; crop_offset_top_left: [number, number]; cropped_uint8: unknown; output: unknown };
  const t = c.tolerance as { atol: number; rtol: number; output_mean_abs_max: number; cropped_uint8_max_abs: number; cropped_uint8_mean_abs_max: number };
  const cfg = e.data_config;
  if (cfg.interpolation !== 'bicubic' && cfg.interpolation !== 'bilinear') throw new Error(`unsupported interpolation ${cfg.interpolation}`);
  const x = decodeTensor(c.inputs.image, 'inputs.image');
  const [, H, W] = x.shape;
  const img = makeImage(W, H, x.data as Uint8Array);
  const size = cfg.input_size[1];
  const g = evalGeometry(W, H, size, cfg.crop_pct);
  const crop = evalTransform(img, size, cfg.crop_pct, cfg.interpolation);
  const wantCrop = decodeTensor(e.cropped_uint8, 'expected.cropped_uint8').data;
  const wantOut = decodeTensor(e.output, 'expected.output').data;
  const out = normalizeToFloat32(crop.data, cfg.mean, cfg.std);
  return [
    exactEqual('resize_size_hw', g.resizeHW, e.resize_size_hw),
    exactEqual('crop_offset_top_left', g.cropTopLeft, e.crop_offset_top_left),
    meanMax('cropped_uint8', crop.data, wantCrop, t.cropped_uint8_mean_abs_max, t.cropped_uint8_max_abs),
    meanMax('output', out, wantOut, t.output_mean_abs_max, Infinity),
    allClose('output elementwise', out, wantOut, t),
    // Given timm's exact crop, normalisation must agree to float32 precision.
    allClose('normalize(golden crop)', normalizeToFloat32(wantCrop as Uint8Array, cfg.mean, cfg.std), wantOut, { atol: 0, rtol: 0 }),
  ];
}

function meanMax(name: string, got: ArrayLike<number>, want: ArrayLike<number>, meanBound: number, maxBound: number): Check {
  if (got.length !== want.length) return { name, ok: false, detail: `length ${got.length}, expected ${want.length}` };
  let sum = 0, max = 0;
  for (let k = 0; k < want.length; k++) {
    const d = Math.abs(got[k] - want[k]);
    sum += d;
    if (d > max) max = d;
  }
  const mean = sum / want.length;
  const ok = mean <= meanBound && max <= maxBound;
  return { name, ok, detail: `mean abs diff ${mean.toPrecision(3)} (bound ${meanBound}), max ${max.toPrecision(3)} (bound ${maxBound})` };
}
