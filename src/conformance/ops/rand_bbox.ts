// rand_bbox goldens: the cutmix box maths alone (image size, lam and centre in; clipped box
// and corrected lam out).
import type { GoldenCase } from '../format.ts';
import type { OpContext } from '../registry.ts';
import { exactEqual, scalarClose, type Check } from '../compare.ts';
import { randBox } from '../../train/mixup.ts';

export function run(c: GoldenCase, _ctx: OpContext): Check[] {
  const [h, w] = c.params.img_shape as [number, number];
  if (Number(c.params.margin ?? 0) !== 0) throw new Error(`rand_bbox/${c.case}: margin ${c.params.margin} not supported (timm uses 0)`);
  const { cy, cx } = c.inputs.center as { cy: number; cx: number };
  const r = randBox(h, w, Number(c.inputs.lam), cy, cx, c.params.correct_lam !== false);
  const e = c.expected as { yl: number; yh: number; xl: number; xh: number; lam_corrected: number; randint_calls?: { low: number; high: number; result: number }[] };
  const checks = [
    exactEqual('box', r.box, { yl: e.yl, yh: e.yh, xl: e.xl, xh: e.xh }),
    scalarClose('lam_corrected', r.lam, e.lam_corrected, c.tolerance),
  ];
  // The centre draws are numpy randint(0, H) then randint(0, W): check our ranges match.
  if (e.randint_calls) checks.push(exactEqual('centre draw ranges', [[0, h], [0, w]], e.randint_calls.map((k) => [k.low, k.high])));
  return checks;
}
