// mixup goldens: timm Mixup in batch mode with its recorded draws injected into applyMix.
// The golden batches are float32 (timm's tensor path, no uint8 rounding); the NHWC copy is used.
import type { GoldenCase } from '../format.ts';
import { decodeTensor, type Tensor } from '../format.ts';
import type { OpContext } from '../registry.ts';
import { allClose, exactEqual, scalarClose, type Check } from '../compare.ts';
import { applyMix } from '../../train/mixup.ts';

/** NCHW -> NHWC copy, for cases that carry only the PyTorch layout. */
function toNhwc(t: Tensor): Tensor {
  if (t.layout === 'NHWC') return t;
  if (t.layout !== 'NCHW') throw new Error(`expected an NCHW or NHWC tensor, got ${t.layout}`);
  const [b, ch, h, w] = t.shape;
  const out = new Float32Array(t.data.length);
  for (let i = 0; i < b; i++) for (let k = 0; k < ch; k++) for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
    out[((i * h + y) * w + x) * ch + k] = t.data[((i * ch + k) * h + y) * w + x];
  }
  return { shape: [b, h, w, ch], dtype: t.dtype, layout: 'NHWC', data: out };
}

export function run(c: GoldenCase, _ctx: OpContext): Check[] {
  if (c.params.mode !== 'batch') throw new Error(`mixup/${c.case}: mode ${String(c.params.mode)} not supported (batch only)`);
  const x = toNhwc(decodeTensor(c.inputs.x_nhwc ?? c.inputs.x_nchw, 'inputs.x_nhwc'));
  if (x.layout !== 'NHWC' || x.dtype !== 'float32') throw new Error(`mixup/${c.case}: inputs.x_nhwc must be float32 NHWC, got ${x.dtype} ${x.layout}`);
  const target = decodeTensor(c.inputs.target, 'inputs.target');
  const d = c.inputs.draws as { lam: number; use_cutmix: boolean; cutmix_center?: { cy: number; cx: number } };
  const [b, h, w, ch] = x.shape;
  const res = applyMix(
    x.data as Float32Array,
    Array.from(target.data),
    { batch: b, height: h, width: w, channels: ch },
    { mixed: true, useCutmix: d.use_cutmix, lam: d.lam, cy: d.cutmix_center?.cy ?? 0, cx: d.cutmix_center?.cx ?? 0 },
    { correctLam: c.params.correct_lam !== false, labelSmoothing: Number(c.params.label_smoothing), numClasses: Number(c.params.num_classes) },
  );
  const e = c.expected;
  const checks = [
    allClose('x_mixed_nhwc', res.images, toNhwc(decodeTensor(e.x_mixed_nhwc ?? e.x_mixed_nchw, 'expected.x_mixed_nhwc')).data, c.tolerance),
    allClose('target_mixed', res.targets, decodeTensor(e.target_mixed, 'expected.target_mixed').data, c.tolerance),
    scalarClose('lam_corrected', res.lam, Number(e.lam_corrected), c.tolerance),
  ];
  if (e.cutmix_box) checks.push(exactEqual('cutmix_box', res.box, e.cutmix_box));
  return checks;
}
