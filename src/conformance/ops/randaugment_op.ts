// Golden adapter: one timm AugmentOp application (increasing set) with recorded draws:
// apply check, magnitude noise, sign, interpolation, on a 40x48 RGB image.
import type { GoldenCase } from '../format.ts';
import { decodeTensor } from '../format.ts';
import { allClose, exactEqual, type Check } from '../compare.ts';
import { augmentOp, INCREASING_OPS, LEVEL_FNS, type OpName } from '../../data/transforms/randaugment.ts';
import { ReplaySource, type RecordedDraw } from '../../data/transforms/random-source.ts';
import { makeImage } from '../../data/transforms/image.ts';
import type { ResampleFilter } from '../../data/transforms/resample.ts';

interface AugmentOpParams {
  op: string;
  prob: number;
  magnitude_config: number;
  magnitude_std: number;
  magnitude_max: number | null;
  hparams: { img_mean: [number, number, number] };
  resample_choices: string[];
}

export function run(c: GoldenCase): Check[] {
  const p = (c.params as { augment_op: AugmentOpParams }).augment_op;
  const e = c.expected as { image: unknown; magnitude_used: number | null; level_args: number[]; resample_used: string | null; fillcolor: number[] };
  const tol = c.tolerance as { atol: number; rtol: number; max_frac_exceeding_atol?: number };
  if (!(INCREASING_OPS as readonly string[]).includes(p.op)) throw new Error(`op '${p.op}' is not in the increasing set`);
  const name = p.op as OpName;
  for (const r of p.resample_choices) if (r !== 'bilinear' && r !== 'bicubic') throw new Error(`unsupported resample '${r}'`);
  const x = decodeTensor(c.inputs.image, 'inputs.image');
  const [, H, W] = x.shape;
  const rnd = new ReplaySource(c.inputs.draws as RecordedDraw[], `${c.case} draws`);
  const res = augmentOp(makeImage(W, H, x.data as Uint8Array), name, {
    prob: p.prob, magnitude: p.magnitude_config, magnitudeStd: p.magnitude_std, magnitudeMax: p.magnitude_max,
    resampleChoices: p.resample_choices as ResampleFilter[], fill: p.hparams.img_mean,
  }, rnd);
  const want = decodeTensor(e.image, 'expected.image').data;
  const checks: Check[] = [
    exactEqual('draws consumed', rnd.used, (c.inputs.draws as unknown[]).length),
    exactEqual('resample_used', res.resample, e.resample_used),
    allClose('level_args', res.args, e.level_args, { atol: 1e-12, rtol: 0 }),
    imageCheck(res.image.data, want, tol.atol, tol.max_frac_exceeding_atol ?? 0),
  ];
  // timm reports a magnitude only for ops that use one.
  if (e.magnitude_used !== null) checks.push(allClose('magnitude_used', [res.magnitude ?? NaN], [e.magnitude_used], { atol: 1e-12, rtol: 0 }));
  else checks.push(exactEqual('op without magnitude', LEVEL_FNS[name], null));
  return checks;
}

/** Every value within atol, except at most `maxFrac` of them (the README's geometric rule). */
function imageCheck(got: Uint8Array, want: ArrayLike<number>, atol: number, maxFrac: number): Check {
  if (got.length !== want.length) return { name: 'image', ok: false, detail: `length ${got.length}, expected ${want.length}` };
  let exact = 0, over = 0, max = 0;
  for (let k = 0; k < want.length; k++) {
    const d = Math.abs(got[k] - want[k]);
    if (d === 0) exact++;
    if (d > atol) over++;
    if (d > max) max = d;
  }
  const frac = over / want.length;
  return {
    name: 'image',
    ok: frac <= maxFrac,
    detail: `${exact}/${want.length} exact, ${over} beyond atol ${atol} (${(frac * 100).toFixed(2)}%, allowed ${(maxFrac * 100).toFixed(2)}%), max diff ${max}`,
  };
}
