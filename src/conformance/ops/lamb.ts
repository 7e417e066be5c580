// lamb goldens: timm Lamb built by its optimizer factory (two parameter groups), five steps
// of given gradients at a constant LR; parameters and both moments checked after every
// step, plus the global gradient norm and the clip divisor.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import type { GoldenCase } from '../format.ts';
import { decodeTensor } from '../format.ts';
import type { OpContext } from '../registry.ts';
import { allClose, exactEqual, scalarClose, type Check } from '../compare.ts';
import { groupParams, type NamedParam } from '../../train/optimizer-base.ts';
import { Lamb, LAMB_DEFAULTS } from '../../train/lamb.ts';

type TensorMap = Record<string, unknown>;

export async function run(c: GoldenCase, _ctx: OpContext): Promise<Check[]> {
  await tf.setBackend('cpu');
  const e = c.expected as {
    optimizer_defaults: { betas: number[]; eps: number; max_grad_norm: number; bias_correction: boolean; grad_averaging: boolean; trust_clip: boolean; always_adapt: boolean; decoupled_decay?: boolean; caution?: boolean };
    param_groups: { param_names: string[]; weight_decay: number }[];
    steps: { params: TensorMap; exp_avg: TensorMap; exp_avg_sq: TensorMap; global_grad_norm: number; clip_divisor: number }[];
  };
  const d = e.optimizer_defaults;
  // Only timm's default Lamb flavour is implemented; refuse the others loudly.
  if (!d.bias_correction || !d.grad_averaging || d.trust_clip || d.always_adapt || d.decoupled_decay || d.caution) {
    throw new Error(`lamb/${c.case}: optimizer_defaults ask for a Lamb variant this port does not implement: ${JSON.stringify(d)}`);
  }
  const checks: Check[] = [];
  // When the case builds Lamb with timm's defaults, ours must be the same numbers.
  if (c.params.betas === undefined && c.params.eps === undefined && c.params.max_grad_norm === undefined) {
    checks.push(exactEqual('defaults (betas, eps, max_grad_norm)', [LAMB_DEFAULTS.betas, LAMB_DEFAULTS.eps, LAMB_DEFAULTS.maxGradNorm], [d.betas, d.eps, d.max_grad_norm]));
  }

  const initial = c.inputs.initial_params as TensorMap;
  const order = (c.params.param_names as string[] | undefined) ?? Object.keys(initial);
  const params: NamedParam[] = order.map((name) => {
    const t = decodeTensor(initial[name], `inputs.initial_params.${name}`);
    return { name, variable: tf.variable(tf.tensor(t.data as Float32Array, t.shape), true, `lamb_${c.case}_${name}`) };
  });
  const groups = groupParams(params, Number(c.params.weight_decay), '1d-and-bias');
  checks.push(
    exactEqual(
      'param_groups',
      groups.map((g) => ({ names: g.params.map((p) => p.name).sort(), wd: g.weightDecay })),
      e.param_groups.map((g) => ({ names: [...g.param_names].sort(), wd: g.weight_decay })),
    ),
  );
  const opt = new Lamb(groups, { betas: d.betas as [number, number], eps: d.eps, maxGradNorm: d.max_grad_norm });
  const lr = Number(c.params.lr);
  const gradSteps = c.inputs.grads_per_step as TensorMap[];
  try {
    gradSteps.forEach((gs, k) => {
      const grads = Object.fromEntries(
        order.map((name) => {
          const t = decodeTensor(gs[name], `inputs.grads_per_step[${k}].${name}`);
          return [name, tf.tensor(t.data as Float32Array, t.shape)];
        }),
      );
      const info = opt.step(grads, lr);
      tf.dispose(Object.values(grads));
      const want = e.steps[k];
      const state = opt.getState();
      checks.push(scalarClose(`step ${k + 1} global_grad_norm`, info.globalGradNorm!, want.global_grad_norm, c.tolerance));
      checks.push(scalarClose(`step ${k + 1} clip_divisor`, info.clipDivisor!, want.clip_divisor, c.tolerance));
      for (const p of params) {
        const at = `step ${k + 1} ${p.name}`;
        checks.push(allClose(`${at} params`, p.variable.dataSync(), decodeTensor(want.params[p.name], `${at} params`).data, c.tolerance));
        checks.push(allClose(`${at} exp_avg`, state.slots[p.name].exp_avg, decodeTensor(want.exp_avg[p.name], `${at} exp_avg`).data, c.tolerance));
        checks.push(allClose(`${at} exp_avg_sq`, state.slots[p.name].exp_avg_sq, decodeTensor(want.exp_avg_sq[p.name], `${at} exp_avg_sq`).data, c.tolerance));
      }
    });
  } finally {
    opt.dispose();
    for (const p of params) p.variable.dispose();
  }
  return checks;
}
