// Golden adapter: the noisy magnitude (clip(M + mstd*z, 0, mmax or 10)) and the level
// arguments it maps to, through the same AugmentOp code with recorded draws.
import type { GoldenCase } from '../format.ts';
import { allClose, exactEqual, type Check } from '../compare.ts';
import { INCREASING_OPS, LEVEL_FNS, noisyMagnitude, parseRandAugment, type OpName } from '../../data/transforms/randaugment.ts';
import { ReplaySource, type RecordedDraw } from '../../data/transforms/random-source.ts';

export function run(c: GoldenCase): Check[] {
  const p = c.params as { config_str: string; op: string; magnitude: number; magnitude_std: number; magnitude_max: number | null };
  const e = c.expected as { magnitude_used: number; level_args?: number[] };
  if (!(INCREASING_OPS as readonly string[]).includes(p.op)) throw new Error(`op '${p.op}' is not in the increasing set`);
  const cfg = parseRandAugment(p.config_str);
  const rnd = new ReplaySource(c.inputs.draws as RecordedDraw[], `${c.case} draws`);
  const tol = { atol: c.tolerance.atol, rtol: c.tolerance.rtol };
  const checks: Check[] = [
    exactEqual('config magnitude', cfg.magnitude, p.magnitude),
    exactEqual('config magnitude std', cfg.magnitudeStd, p.magnitude_std),
    exactEqual('config magnitude max', cfg.magnitudeMax, p.magnitude_max),
  ];
  // The apply check comes first in AugmentOp; this case always applies.
  const applied = !(cfg.prob < 1 && rnd.random() > cfg.prob);
  checks.push(exactEqual('applied', applied, true));
  const m = noisyMagnitude(cfg, rnd);
  checks.push(allClose('magnitude_used', [m], [e.magnitude_used], tol));
  const level = LEVEL_FNS[p.op as OpName];
  if (e.level_args) checks.push(allClose('level_args', level ? level(m, rnd) : [], e.level_args, tol));
  return checks;
}
