// What LAMB, SGD and AdamW share (optimizer.ts adds the factory): the parameter/gradient contract, the exportable state
// (for checkpoints), and a factory from a recipe's optimizer section.
//
// Parameters are tf.Variables addressed by name (the timm state_dict key); gradients come as
// a map from the same names (what tf.variableGrads returns when the variables carry those
// names). Optimizer state lives in non-trainable tf.Variables on the active backend, and is
// exported as plain Float32Arrays so the checkpoint code needs no tfjs.
import { Type, type Static } from '@sinclair/typebox';
import * as tf from '@tensorflow/tfjs-core';
import { paramGroups, type ParamGroup, type WeightDecayExempt } from './param-groups.ts';

export interface NamedParam {
  name: string;
  variable: tf.Variable;
}

/** Shape view of a NamedParam, for paramGroups. */
interface GroupableParam extends NamedParam {
  shape: number[];
  trainable: boolean;
}

export type Grads = Record<string, tf.Tensor>;

export interface StepInfo {
  /** L2 norm over all gradients of all groups, before any clipping (LAMB only; else null). */
  globalGradNorm: number | null;
  /** What every gradient was divided by (1 when the clip did not bind; LAMB only). */
  clipDivisor: number | null;
}

const Float32Data = Type.Unsafe<Float32Array>({ description: 'Float32Array with one value per parameter element' });

/** Exported optimizer state: per-group step counters and per-parameter slots (moments, momentum). */
export const OptimizerState = Type.Object({
  kind: Type.Union([Type.Literal('lamb'), Type.Literal('sgd'), Type.Literal('adamw')]),
  /** Steps taken, per group in group order (timm keeps one counter per group). */
  groupSteps: Type.Array(Type.Integer({ minimum: 0 })),
  /** param name -> slot name (exp_avg, exp_avg_sq, momentum_buffer) -> values. */
  slots: Type.Record(Type.String(), Type.Record(Type.String(), Float32Data)),
});
export type OptimizerState = Static<typeof OptimizerState>;

export interface Optimizer {
  readonly kind: OptimizerState['kind'];
  readonly groups: readonly ParamGroup<NamedParam>[];
  /** One update with learning rate `lr`. Every parameter of every group needs a gradient. */
  step(grads: Grads, lr: number): StepInfo;
  getState(): OptimizerState;
  setState(state: OptimizerState): void;
  /** Frees the state variables. */
  dispose(): void;
}

/**
 * A non-trainable variable holding t's values, t disposed: the variable is then the only holder
 * of its buffer (an optimizer may update it in place; and the initial tensor is not leaked).
 */
function variableOwning(t: tf.Tensor): tf.Variable {
  const v = tf.variable(t, false);
  t.dispose();
  return v;
}

/** Base class: group bookkeeping, slot variables, state export/import. */
export abstract class SlotOptimizer implements Optimizer {
  abstract readonly kind: OptimizerState['kind'];
  readonly groups: readonly ParamGroup<NamedParam>[];
  protected groupSteps: number[];
  /** param name -> slot name -> variable. */
  protected slots = new Map<string, Map<string, tf.Variable>>();

  constructor(groups: readonly ParamGroup<NamedParam>[]) {
    const names = new Set<string>();
    for (const g of groups) {
      for (const p of g.params) {
        if (names.has(p.name)) throw new Error(`optimizer: parameter '${p.name}' is in more than one group`);
        names.add(p.name);
      }
    }
    this.groups = groups;
    this.groupSteps = groups.map(() => 0);
  }

  abstract step(grads: Grads, lr: number): StepInfo;

  /** The gradient for p, checked for presence and shape. */
  protected gradFor(grads: Grads, p: NamedParam): tf.Tensor {
    const g = grads[p.name];
    if (!g) throw new Error(`${this.kind}: no gradient for parameter '${p.name}'`);
    if (g.size !== p.variable.size) throw new Error(`${this.kind}: gradient of '${p.name}' has shape [${g.shape}], parameter [${p.variable.shape}]`);
    return g.shape.length === p.variable.shape.length ? g : tf.reshape(g, p.variable.shape);
  }

  /** The slot variable, created as zeros on first use. */
  protected slot(p: NamedParam, slotName: string): tf.Variable {
    let bySlot = this.slots.get(p.name);
    if (!bySlot) this.slots.set(p.name, (bySlot = new Map()));
    let v = bySlot.get(slotName);
    if (!v) {
      v = variableOwning(tf.zerosLike(p.variable));
      bySlot.set(slotName, v);
    }
    return v;
  }

  protected hasSlot(p: NamedParam, slotName: string): boolean {
    return this.slots.get(p.name)?.has(slotName) ?? false;
  }

  getState(): OptimizerState {
    const slots: OptimizerState['slots'] = {};
    for (const [name, bySlot] of this.slots) {
      slots[name] = {};
      for (const [slotName, v] of bySlot) slots[name][slotName] = Float32Array.from(v.dataSync() as Float32Array);
    }
    return { kind: this.kind, groupSteps: [...this.groupSteps], slots };
  }

  setState(state: OptimizerState): void {
    const where = `${this.kind}.setState`;
    if (state.kind !== this.kind) throw new Error(`${where}: state of a '${state.kind}' optimizer`);
    if (state.groupSteps.length !== this.groups.length) {
      throw new Error(`${where}: ${state.groupSteps.length} group step counters for ${this.groups.length} groups`);
    }
    const params = new Map(this.groups.flatMap((g) => g.params.map((p) => [p.name, p] as const)));
    for (const [name, bySlot] of Object.entries(state.slots)) {
      const p = params.get(name);
      if (!p) throw new Error(`${where}: state for unknown parameter '${name}'`);
      for (const [slotName, data] of Object.entries(bySlot)) {
        if (!(data instanceof Float32Array) || data.length !== p.variable.size) {
          throw new Error(`${where}: slot ${slotName} of '${name}' needs ${p.variable.size} float32 values, got ${(data as ArrayLike<number>)?.length}`);
        }
      }
    }
    this.dispose();
    this.groupSteps = [...state.groupSteps];
    for (const [name, bySlot] of Object.entries(state.slots)) {
      const p = params.get(name)!;
      const m = new Map<string, tf.Variable>();
      for (const [slotName, data] of Object.entries(bySlot)) {
        // A copy: the cpu backend would adopt `data` itself as storage, and the state object
        // must not change when the optimizer later updates its moments in place.
        m.set(slotName, variableOwning(tf.tensor(data.slice(), p.variable.shape)));
      }
      this.slots.set(name, m);
    }
  }

  dispose(): void {
    for (const bySlot of this.slots.values()) for (const v of bySlot.values()) v.dispose();
    this.slots.clear();
  }
}

/** The optimizer section of a recipe (structural copy of recipes/schema.ts OptimizerSpec). */
export type OptimizerSettings =
  | { name: 'lamb'; weightDecay: number; weightDecayExempt: WeightDecayExempt; betas: [number, number]; eps: number; maxGradNorm: number | null }
  | { name: 'sgd'; weightDecay: number; weightDecayExempt: WeightDecayExempt; momentum: number; nesterov: boolean }
  | { name: 'adamw'; weightDecay: number; weightDecayExempt: WeightDecayExempt; betas: [number, number]; eps: number };

/** Groups named variables the way the recipe says (no decay for 1-D and .bias unless 'none'). */
export function groupParams(params: readonly NamedParam[], weightDecay: number, exempt: WeightDecayExempt): ParamGroup<NamedParam>[] {
  const view: GroupableParam[] = params.map((p) => ({ ...p, shape: p.variable.shape, trainable: p.variable.trainable }));
  return paramGroups(view, weightDecay, exempt).map((g) => ({
    ...g,
    params: g.params.map(({ name, variable }) => ({ name, variable })),
  }));
}
