// timm's ResNet initialisation (rsb-recipes.md §2.8), drawn from our counter-based streams:
//   conv weight   ~ N(0, 2 / fan_out), fan_out = out * kh * kw (Kaiming normal, fan-out, ReLU gain)
//   BN gamma = 1, beta = 0, running mean 0, running var 1; gamma of every block's last BN = 0
//                  when zeroInitLast (each residual branch starts at exactly zero)
//   fc weight, bias ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in))  (PyTorch's default Linear init)
// Each tensor has its own stream keyed by (seed, 'init', 0, index in state-dict order), so the
// values of one tensor do not depend on how many tensors came before it were drawn.
import { streamFor } from '../util/rng.ts';
import type { StateEntry } from './resnet-archs.ts';

export interface InitContext {
  seed: number;
  /** Names of BN modules whose gamma starts at zero (each block's last BN). */
  zeroGammaBns: ReadonlySet<string>;
  /** 'none': zeros for weights (fast, for loading checkpoints); BN still starts at identity. */
  mode: 'random' | 'none';
  /** in-features of fc: the bound of the fc bias comes from the weight's fan-in. */
  fcFanIn: number;
}

/**
 * The initial value of one state entry, in PyTorch layout (row-major over entry.timmShape).
 * `index` is the entry's position in the state dict.
 */
export function initialValue(e: StateEntry, index: number, ctx: InitContext): Float32Array | Int32Array {
  const n = e.timmShape.reduce((a, b) => a * b, 1);
  switch (e.role) {
    case 'conv_weight': {
      const out = new Float32Array(n);
      if (ctx.mode === 'none') return out;
      const [o, , kh, kw] = e.timmShape;
      const std = Math.sqrt(2 / (o * kh * kw));
      const rng = streamFor(ctx.seed, 'init', 0, index);
      for (let i = 0; i < n; i++) out[i] = rng.gauss(0, std);
      return out;
    }
    case 'bn_weight': {
      const bn = e.name.slice(0, -'.weight'.length);
      return new Float32Array(n).fill(ctx.zeroGammaBns.has(bn) ? 0 : 1);
    }
    case 'bn_running_var':
      return new Float32Array(n).fill(1);
    case 'bn_bias':
    case 'bn_running_mean':
      return new Float32Array(n);
    case 'bn_num_batches_tracked':
      return new Int32Array(1);
    case 'fc_weight':
    case 'fc_bias': {
      const out = new Float32Array(n);
      if (ctx.mode === 'none') return out;
      // fan_in is the weight's in-features for both weight and bias, as in PyTorch.
      const fanIn = e.role === 'fc_weight' ? e.timmShape[1] : ctx.fcFanIn;
      const bound = 1 / Math.sqrt(fanIn);
      const rng = streamFor(ctx.seed, 'init', 0, index);
      for (let i = 0; i < n; i++) out[i] = rng.uniform(-bound, bound);
      return out;
    }
  }
}
