// The ResNet family (timm's `ResNet`, rsb-recipes.md §2.8) in TensorFlow.js.
//
// NHWC activations, HWIO conv weights, PyTorch-style symmetric padding, BatchNorm with
// PyTorch's running-stat semantics, stochastic depth per block. Variables carry timm's
// state-dict names (conv1.weight, layer1.0.bn3.running_var, fc.bias, ...), so importing and
// exporting timm weights is a rename-free layout transpose (./timm-weights.ts).
//
// BatchNorm and gradients: `forward()` computes in training mode with batch statistics and
// *returns* those statistics instead of writing the running buffers, so a training step can
//   const { value, grads } = tf.variableGrads(() => { const r = model.forward(x, {training: true});
//                                                      stats = r.batchStats; return loss(r.logits); },
//                                             model.trainableVariables);
//   model.commitBatchStats(stats);   // running stats updated exactly once, outside the tape
// `apply()` is the one-call form that commits right away (fine inside a tape too: variable
// assignments are not recorded, and buffers are never in the trainable list).
import { Value } from '@sinclair/typebox/value';
import { tf } from './tf.ts';
import type { Rng } from '../util/rng.ts';
import {
  ResNetOptions, resnetPlan, resnetStateSpec, resolveArch,
  type ConvPlan, type ResNetArchConfig, type ResNetArchName, type ResNetPlan,
} from './resnet-archs.ts';
import { VariableStore, ourShape, type ModelVariable } from './variables.ts';
import { initialValue } from './init.ts';
import { toOurLayout } from './layout.ts';
import { conv2d } from './layers/conv2d.ts';
import { maxPool2d } from './layers/max-pool.ts';
import {
  batchNormEval, batchNormTrain, commitBatchStats, discardBatchStats,
  type BatchNormVars, type BatchStats,
} from './layers/batch-norm.ts';
import { dropPath, dropPathKeepMaskFromStreams } from '../train/drop-path.ts';

export interface ApplyOptions {
  training: boolean;
  /**
   * Random streams for stochastic depth (required when training with dropPathRate > 0).
   * `rng`: one stream for the whole batch, or a function giving sample i (of this batch) its
   * own stream, so the masks do not depend on how a global batch is split across workers.
   * Draw order: block by block, one uniform per sample.
   */
  dropPath?: { rng: Rng | ((sample: number) => Rng) };
  /** Also return the stem max-pool output and the pooled features (for checks and probes). */
  features?: boolean;
}

export interface ForwardResult {
  logits: tf.Tensor2D;
  /** Training mode: one entry per BN layer, to pass to commitBatchStats (or discard). */
  batchStats: BatchStats[];
  features?: { stemPool: tf.Tensor4D; preLogits: tf.Tensor2D };
}

interface ConvBn {
  plan: ConvPlan;
  weight: tf.Variable;
  bn: BatchNormVars;
}

export class ResNet {
  readonly config: ResNetArchConfig;
  readonly options: ResNetOptions;
  readonly plan: ResNetPlan;
  private readonly store = new VariableStore();
  private readonly stem: ConvBn;
  private readonly blocks: { name: string; rate: number; branch: ConvBn[]; downsample: ConvBn | null }[];
  private readonly fcWeight: tf.Variable;
  private readonly fcBias: tf.Variable;
  private disposed = false;

  constructor(readonly arch: string, config: ResNetArchConfig, options: ResNetOptions) {
    this.config = config;
    this.options = options;
    this.plan = resnetPlan(config, options.numClasses, options.dropPathRate);
    const spec = resnetStateSpec(this.plan);
    const zeroGammaBns = new Set<string>();
    if (options.zeroInitLast) {
      for (const b of this.plan.blocks) for (const c of b.branch) if (c.lastOfBranch) zeroGammaBns.add(c.bn);
    }
    const ctx = { seed: options.seed, zeroGammaBns, mode: options.init, fcFanIn: this.plan.featureDim };
    spec.forEach((e, i) => {
      const data = toOurLayout(e.role, e.timmShape, initialValue(e, i, ctx));
      this.store.add(e, data instanceof Int32Array ? tf.scalar(data[0], 'int32') : tf.tensor(data, ourShape(e)));
    });
    const convBn = (p: ConvPlan): ConvBn => ({
      plan: p,
      weight: this.store.get(`${p.conv}.weight`).variable,
      bn: {
        name: p.bn,
        gamma: this.store.get(`${p.bn}.weight`).variable,
        beta: this.store.get(`${p.bn}.bias`).variable,
        runningMean: this.store.get(`${p.bn}.running_mean`).variable,
        runningVar: this.store.get(`${p.bn}.running_var`).variable,
        numBatchesTracked: this.store.get(`${p.bn}.num_batches_tracked`).variable,
      },
    });
    this.stem = convBn(this.plan.stem);
    this.blocks = this.plan.blocks.map((b) => ({
      name: b.name,
      rate: b.dropPathRate,
      branch: b.branch.map(convBn),
      downsample: b.downsample ? convBn(b.downsample) : null,
    }));
    this.fcWeight = this.store.get('fc.weight').variable;
    this.fcBias = this.store.get('fc.bias').variable;
  }

  /** Every state entry in timm's state-dict order (parameters and buffers). */
  get variables(): readonly ModelVariable[] {
    return this.store.entries;
  }

  /** Parameters only (what the optimizer updates), in state-dict order. */
  get parameters(): ModelVariable[] {
    return this.store.entries.filter((e) => e.kind === 'parameter');
  }

  /** BN running stats and counters. */
  get buffers(): ModelVariable[] {
    return this.store.entries.filter((e) => e.kind === 'buffer');
  }

  /** The tf.Variables to differentiate (tf.variableGrads(f, model.trainableVariables)). */
  get trainableVariables(): tf.Variable[] {
    return this.parameters.map((e) => e.variable);
  }

  /** The entry with this timm name; throws naming the missing key. */
  variable(name: string): ModelVariable {
    return this.store.get(name);
  }

  hasVariable(name: string): boolean {
    return this.store.has(name);
  }

  /** Number of trainable scalars (resnet50 with 1000 classes: 25,557,032). */
  numParameters(): number {
    return this.parameters.reduce((n, e) => n + e.timmShape.reduce((a, b) => a * b, 1), 0);
  }

  /** The drop-path rate of each block, keyed by block name ('layer1.0': 0, ...). */
  get blockDropPathRates(): Record<string, number> {
    return Object.fromEntries(this.blocks.map((b) => [b.name, b.rate]));
  }

  /**
   * Forward pass on an NHWC float32 batch that is already normalised. Running stats are not
   * touched: in training mode the batch statistics come back in `batchStats`.
   */
  forward(x: tf.Tensor4D, opts: ApplyOptions): ForwardResult {
    if (this.disposed) throw new Error(`${this.arch}: model was disposed`);
    if (x.rank !== 4 || x.shape[3] !== 3) throw new Error(`${this.arch}: input must be NHWC with 3 channels, got [${x.shape}]`);
    if (x.dtype !== 'float32') throw new Error(`${this.arch}: input must be float32 (normalised), got ${x.dtype}`);
    const training = opts.training;
    const n = x.shape[0];
    const needsDrop = training && this.blocks.some((b) => b.rate > 0);
    if (needsDrop && !opts.dropPath) {
      throw new Error(`${this.arch}: dropPathRate ${this.options.dropPathRate} in training mode needs opts.dropPath.rng`);
    }
    const src = opts.dropPath?.rng;
    const rngs: Rng[] = !needsDrop || !src ? [] : typeof src === 'function' ? Array.from({ length: n }, (_, i) => src(i)) : Array(n).fill(src);
    const stats: BatchStats[] = [];

    const convBn = (h: tf.Tensor4D, c: ConvBn): tf.Tensor4D => {
      const z = conv2d(h, c.weight as tf.Tensor4D, c.plan.stride, c.plan.pad);
      if (!training) return batchNormEval(z, c.bn);
      const r = batchNormTrain(z, c.bn);
      stats.push(r.stats);
      return r.y;
    };

    try {
      const out = tf.tidy(() => {
        let h = tf.relu(convBn(x, this.stem));
        h = maxPool2d(h, 3, 2, 1);
        const stemPool = h;
        for (const b of this.blocks) {
          let y = h;
          b.branch.forEach((c, i) => {
            y = convBn(y, c);
            if (i < b.branch.length - 1) y = tf.relu(y);
          });
          // Stochastic depth (src/train/drop-path.ts, checked against timm's DropPath goldens).
          if (training && b.rate > 0) y = dropPath(y, b.rate, dropPathKeepMaskFromStreams(rngs, b.rate), { training: true }) as tf.Tensor4D;
          const shortcut = b.downsample ? convBn(h, b.downsample) : h;
          h = tf.relu(tf.add(y, shortcut) as tf.Tensor4D);
        }
        const preLogits = tf.mean(h, [1, 2]) as tf.Tensor2D;
        const logits = tf.add(tf.matMul(preLogits, this.fcWeight as tf.Tensor2D), this.fcBias) as tf.Tensor2D;
        return opts.features ? { logits, stemPool, preLogits } : { logits };
      });
      const r: ForwardResult = { logits: out.logits, batchStats: stats };
      if (opts.features) r.features = { stemPool: out.stemPool as tf.Tensor4D, preLogits: out.preLogits as tf.Tensor2D };
      return r;
    } catch (e) {
      discardBatchStats(stats);
      throw e;
    }
  }

  /** Forward pass returning logits; in training mode the BN running stats are updated now. */
  apply(x: tf.Tensor4D, opts: ApplyOptions): tf.Tensor2D {
    const r = this.forward(x, { ...opts, features: false });
    commitBatchStats(r.batchStats);
    return r.logits;
  }

  /** Applies PyTorch's running-stat update for each entry (once each) and frees them. */
  commitBatchStats(stats: readonly BatchStats[]): void {
    commitBatchStats(stats);
  }

  /** Frees collected statistics without applying them. */
  discardBatchStats(stats: readonly BatchStats[]): void {
    discardBatchStats(stats);
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.store.dispose();
  }
}

/**
 * Builds a ResNet with timm's structure and initialisation.
 * `arch`: a name from RESNET_ARCHS ('resnet50', 'resnet_tiny', ...) or an explicit config.
 */
export function createResNet(arch: ResNetArchName | ResNetArchConfig, opts: Partial<ResNetOptions> = {}): ResNet {
  const config = resolveArch(arch);
  const options = Value.Default(ResNetOptions, { ...opts }) as ResNetOptions;
  if (!Value.Check(ResNetOptions, options)) {
    const first = [...Value.Errors(ResNetOptions, options)][0];
    throw new Error(`createResNet: bad option ${first?.path ?? ''}: ${first?.message ?? ''}`);
  }
  return new ResNet(typeof arch === 'string' ? arch : 'custom', config, options);
}
