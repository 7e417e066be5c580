// Parameter groups for weight decay, as timm's optimizer factory builds them.
//
// Every parameter with ndim <= 1 (BatchNorm gamma/beta, biases) and every parameter whose
// name ends in `.bias` goes into a group with weight decay 0; for LAMB that group also gets
// no trust ratio, i.e. a plain Adam step at the full LR. Everything else (conv and linear
// weights) decays. Order follows timm: [no-decay, decay]. Generic over the parameter type
// so this module does not need tfjs.

export type WeightDecayExempt = '1d-and-bias' | 'none';

export interface ParamGroup<P> {
  /** 'no_decay', 'decay' or 'all' (for logs and reports). */
  name: string;
  weightDecay: number;
  params: P[];
}

/** The rule: 1-D (or scalar) tensors and `.bias` names are exempt from weight decay. */
export function isDecayExempt(name: string, shape: readonly number[]): boolean {
  return shape.length <= 1 || name.endsWith('.bias');
}

/**
 * Splits named parameters into timm's two groups. With exempt 'none', or weight decay 0 (timm
 * then skips the split too), there is one group, 'all'. Non-trainable entries (e.g. BN running
 * stats, if passed) are left out.
 */
export function paramGroups<P extends { name: string; shape: readonly number[]; trainable?: boolean }>(
  params: readonly P[],
  weightDecay: number,
  exempt: WeightDecayExempt = '1d-and-bias',
): ParamGroup<P>[] {
  if (!(weightDecay >= 0)) throw new RangeError(`paramGroups: weight decay ${weightDecay} must be >= 0`);
  const seen = new Set<string>();
  for (const p of params) {
    if (seen.has(p.name)) throw new Error(`paramGroups: parameter name '${p.name}' appears twice`);
    seen.add(p.name);
  }
  const trainable = params.filter((p) => p.trainable !== false);
  if (exempt === 'none' || weightDecay === 0) return [{ name: 'all', weightDecay, params: [...trainable] }];
  return [
    { name: 'no_decay', weightDecay: 0, params: trainable.filter((p) => isDecayExempt(p.name, p.shape)) },
    { name: 'decay', weightDecay, params: trainable.filter((p) => !isDecayExempt(p.name, p.shape)) },
  ];
}
