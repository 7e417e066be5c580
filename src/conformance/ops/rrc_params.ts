// Golden adapter: RandomResizedCrop box choice fed with timm's recorded draws.
import type { GoldenCase } from '../format.ts';
import { exactEqual, allClose, type Check } from '../compare.ts';
import { rrcParams } from '../../data/transforms/rrc.ts';
import { ReplaySource, type RecordedDraw } from '../../data/transforms/random-source.ts';

export function run(c: GoldenCase): Check[] {
  const p = c.params as { img_w: number; img_h: number; scale: [number, number]; ratio: [number, number] };
  const e = c.expected as { i: number; j: number; h: number; w: number; attempts: number; fallback: boolean; calls: { fn: string; args: number[]; value: number; result: number }[] };
  const rnd = new ReplaySource(c.inputs.draws as RecordedDraw[], `${c.case} draws`);
  const got = rrcParams(p.img_w, p.img_h, p.scale, p.ratio, rnd);
  const checks: Check[] = [
    exactEqual('box (i, j, h, w)', [got.i, got.j, got.h, got.w], [e.i, e.j, e.h, e.w]),
    exactEqual('attempts', got.attempts, e.attempts),
    exactEqual('fallback', got.fallback, e.fallback),
    exactEqual('draws consumed', rnd.used, (c.inputs.draws as unknown[]).length),
    exactEqual('call sequence', rnd.log.map((k) => k.fn), e.calls.map((k) => k.fn)),
  ];
  // The arguments are logs of a float computation (log of the ratio bounds): compare as numbers.
  const tol = { atol: c.tolerance.atol, rtol: c.tolerance.rtol };
  checks.push(allClose('call arguments', rnd.log.flatMap((k) => k.args), e.calls.flatMap((k) => k.args), tol));
  checks.push(allClose('call results', rnd.log.map((k) => k.result), e.calls.map((k) => k.result), tol));
  return checks;
}
