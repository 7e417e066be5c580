// The ResNet family as plain data: which blocks, how wide, what every state-dict entry is
// called and shaped. No tfjs import here, so the orchestrator, recipes and manifest checks can
// use it without paying for TensorFlow.js start-up.
//
// The structure follows timm's `ResNet` (rsb-recipes.md §2.8): 7x7/2 stem (always 64 wide),
// 3x3/2 max-pool, four stages; Bottleneck (expansion 4, stride on the 3x3, "v1.5") for 50+,
// BasicBlock (expansion 1) for 18/34; a projection shortcut (1x1 conv with the stride + BN)
// wherever the stride or the width changes.
import { Type, type Static } from '@sinclair/typebox';

export const BlockKind = Type.Union([Type.Literal('basic'), Type.Literal('bottleneck')]);
export type BlockKind = Static<typeof BlockKind>;

/** A family member: block kind, blocks per stage, stage widths ("planes", before expansion). */
export const ResNetArchConfig = Type.Object({
  block: BlockKind,
  layers: Type.Tuple([Type.Integer({ minimum: 1 }), Type.Integer({ minimum: 1 }), Type.Integer({ minimum: 1 }), Type.Integer({ minimum: 1 })]),
  channels: Type.Tuple([Type.Integer({ minimum: 1 }), Type.Integer({ minimum: 1 }), Type.Integer({ minimum: 1 }), Type.Integer({ minimum: 1 })]),
}, { additionalProperties: false });
export type ResNetArchConfig = Static<typeof ResNetArchConfig>;

/**
 * The explicit config table. resnet_tiny is the goldens' model (timm
 * `ResNet(Bottleneck, [1,1,1,1], channels=[8,16,32,64])`); resnet_tiny_basic is its BasicBlock
 * twin, so tests cover both block kinds without the cost of resnet18.
 */
export const RESNET_ARCHS = {
  resnet18: { block: 'basic', layers: [2, 2, 2, 2], channels: [64, 128, 256, 512] },
  resnet34: { block: 'basic', layers: [3, 4, 6, 3], channels: [64, 128, 256, 512] },
  resnet50: { block: 'bottleneck', layers: [3, 4, 6, 3], channels: [64, 128, 256, 512] },
  resnet101: { block: 'bottleneck', layers: [3, 4, 23, 3], channels: [64, 128, 256, 512] },
  resnet152: { block: 'bottleneck', layers: [3, 8, 36, 3], channels: [64, 128, 256, 512] },
  resnet_tiny: { block: 'bottleneck', layers: [1, 1, 1, 1], channels: [8, 16, 32, 64] },
  resnet_tiny_basic: { block: 'basic', layers: [1, 1, 1, 1], channels: [8, 16, 32, 64] },
} as const satisfies Record<string, ResNetArchConfig>;

export const ResNetArchName = Type.Union(Object.keys(RESNET_ARCHS).map((k) => Type.Literal(k)));
export type ResNetArchName = keyof typeof RESNET_ARCHS;

/** Construction options that are not part of the architecture. */
export const ResNetOptions = Type.Object({
  numClasses: Type.Integer({ minimum: 1, default: 1000 }),
  /** Maximum stochastic-depth rate (last block); rates rise linearly from 0 at block 0. */
  dropPathRate: Type.Number({ minimum: 0, maximum: 1, default: 0 }),
  /** timm's zero_init_last: gamma of each block's last BN starts at 0. */
  zeroInitLast: Type.Boolean({ default: true }),
  /** Seed of the init streams (src/util/rng.ts, purpose 'init'). */
  seed: Type.Integer({ minimum: 0, default: 0 }),
  /** 'random': timm's init. 'none': parameters zero, BN at identity; for loading weights fast. */
  init: Type.Union([Type.Literal('random'), Type.Literal('none')], { default: 'random' }),
}, { additionalProperties: false });
export type ResNetOptions = Static<typeof ResNetOptions>;

export const STEM_WIDTH = 64;
export const EXPANSION: Record<BlockKind, number> = { basic: 1, bottleneck: 4 };

/** One convolution of the network, with its BN. Names are timm's module paths. */
export interface ConvPlan {
  conv: string; // e.g. 'layer1.0.conv2' or 'layer1.0.downsample.0'
  bn: string; // e.g. 'layer1.0.bn2' or 'layer1.0.downsample.1'
  inC: number;
  outC: number;
  k: number;
  stride: number;
  pad: number;
  /** Last BN of a residual branch (zero-initialised with zeroInitLast). */
  lastOfBranch: boolean;
}

export interface BlockPlan {
  name: string; // 'layer2.0'
  index: number; // position among all blocks, 0-based, counted across stages
  kind: BlockKind;
  branch: ConvPlan[];
  downsample: ConvPlan | null;
  dropPathRate: number;
}

export interface ResNetPlan {
  stem: ConvPlan;
  blocks: BlockPlan[];
  featureDim: number;
  numClasses: number;
}

/**
 * Per-block stochastic-depth rates: maxRate * k / (n - 1) for block k of n. Written as
 * `maxRate * k / (n-1)` (multiply first) because that is the evaluation order whose double
 * results equal timm's list exactly (resnet50_manifest checks them with tolerance 0).
 */
export function blockDropPathRates(numBlocks: number, maxRate: number): number[] {
  if (numBlocks === 1) return [0];
  return Array.from({ length: numBlocks }, (_, k) => (maxRate * k) / (numBlocks - 1));
}

function conv(conv: string, bn: string, inC: number, outC: number, k: number, stride: number, lastOfBranch = false): ConvPlan {
  // PyTorch-style symmetric padding k//2 for odd kernels: same for both sides, any stride.
  return { conv, bn, inC, outC, k, stride, pad: Math.floor(k / 2), lastOfBranch };
}

export function resolveArch(arch: ResNetArchName | ResNetArchConfig): ResNetArchConfig {
  if (typeof arch !== 'string') return arch;
  const c = (RESNET_ARCHS as Record<string, ResNetArchConfig>)[arch];
  if (!c) throw new Error(`unknown ResNet arch '${arch}' (known: ${Object.keys(RESNET_ARCHS).join(', ')})`);
  return c;
}

/** The full layer plan: every conv/BN with its timm name, and the per-block drop-path rate. */
export function resnetPlan(arch: ResNetArchName | ResNetArchConfig, numClasses: number, dropPathRate = 0): ResNetPlan {
  const cfg = resolveArch(arch);
  const exp = EXPANSION[cfg.block];
  const total = cfg.layers.reduce((a, b) => a + b, 0);
  const rates = blockDropPathRates(total, dropPathRate);
  const stem = conv('conv1', 'bn1', 3, STEM_WIDTH, 7, 2);
  const blocks: BlockPlan[] = [];
  let inC = STEM_WIDTH;
  for (let s = 0; s < 4; s++) {
    const planes = cfg.channels[s];
    const outC = planes * exp;
    for (let b = 0; b < cfg.layers[s]; b++) {
      const name = `layer${s + 1}.${b}`;
      const stride = b === 0 && s > 0 ? 2 : 1;
      const p = (x: string) => `${name}.${x}`;
      const branch = cfg.block === 'bottleneck'
        ? [
          conv(p('conv1'), p('bn1'), inC, planes, 1, 1),
          conv(p('conv2'), p('bn2'), planes, planes, 3, stride), // v1.5: stride on the 3x3
          conv(p('conv3'), p('bn3'), planes, outC, 1, 1, true),
        ]
        : [
          conv(p('conv1'), p('bn1'), inC, planes, 3, stride),
          conv(p('conv2'), p('bn2'), planes, outC, 3, 1, true),
        ];
      const downsample = stride !== 1 || inC !== outC
        ? conv(p('downsample.0'), p('downsample.1'), inC, outC, 1, stride)
        : null;
      blocks.push({ name, index: blocks.length, kind: cfg.block, branch, downsample, dropPathRate: rates[blocks.length] });
      inC = outC;
    }
  }
  return { stem, blocks, featureDim: inC, numClasses };
}

export type StateRole =
  | 'conv_weight' | 'bn_weight' | 'bn_bias' | 'bn_running_mean' | 'bn_running_var'
  | 'bn_num_batches_tracked' | 'fc_weight' | 'fc_bias';

/** One state-dict entry as timm names and shapes it (PyTorch layout). */
export interface StateEntry {
  name: string;
  /** PyTorch shape: conv [O, I, kh, kw], linear [out, in]. */
  timmShape: number[];
  dtype: 'float32' | 'int64';
  kind: 'parameter' | 'buffer';
  role: StateRole;
}

/** Every state-dict entry in timm's order (module registration order). */
export function resnetStateSpec(plan: ResNetPlan): StateEntry[] {
  const out: StateEntry[] = [];
  const addConv = (c: ConvPlan) => {
    out.push({ name: `${c.conv}.weight`, timmShape: [c.outC, c.inC, c.k, c.k], dtype: 'float32', kind: 'parameter', role: 'conv_weight' });
    const n = c.outC;
    out.push({ name: `${c.bn}.weight`, timmShape: [n], dtype: 'float32', kind: 'parameter', role: 'bn_weight' });
    out.push({ name: `${c.bn}.bias`, timmShape: [n], dtype: 'float32', kind: 'parameter', role: 'bn_bias' });
    out.push({ name: `${c.bn}.running_mean`, timmShape: [n], dtype: 'float32', kind: 'buffer', role: 'bn_running_mean' });
    out.push({ name: `${c.bn}.running_var`, timmShape: [n], dtype: 'float32', kind: 'buffer', role: 'bn_running_var' });
    out.push({ name: `${c.bn}.num_batches_tracked`, timmShape: [], dtype: 'int64', kind: 'buffer', role: 'bn_num_batches_tracked' });
  };
  addConv(plan.stem);
  for (const b of plan.blocks) {
    for (const c of b.branch) addConv(c);
    if (b.downsample) addConv(b.downsample);
  }
  out.push({ name: 'fc.weight', timmShape: [plan.numClasses, plan.featureDim], dtype: 'float32', kind: 'parameter', role: 'fc_weight' });
  out.push({ name: 'fc.bias', timmShape: [plan.numClasses], dtype: 'float32', kind: 'parameter', role: 'fc_bias' });
  return out;
}

/**
 * timm's optimizer factory rule for the no-weight-decay group: 1-D tensors (BN gamma/beta)
 * and biases. Buffers are never optimised and are not in either group.
 */
export function isNoWeightDecay(e: Pick<StateEntry, 'name' | 'timmShape'>): boolean {
  return e.timmShape.length <= 1 || e.name.endsWith('.bias');
}
