// Named model state: one tf.Variable per timm state-dict entry, plus the metadata that the
// optimizer (param groups), the weight mapper and checkpointing need.
//
// tfjs keeps one global registry of variable names and refuses duplicates, so two models of
// the same arch (a test, a reloaded checkpoint, an EMA copy) could not both use the bare timm
// names. Each store therefore prefixes the tfjs name with a unique instance tag; the timm name
// stays the key everybody else uses (`ModelVariable.name`).
import { tf } from './tf.ts';
import { isNoWeightDecay, type StateEntry } from './resnet-archs.ts';

export interface ModelVariable extends StateEntry {
  /** Our layout: conv HWIO [kh, kw, in, out]; linear [in, out]; num_batches_tracked int32 []. */
  shape: number[];
  variable: tf.Variable;
  /** In timm's no-weight-decay group (1-D or bias); false for buffers. */
  noWeightDecay: boolean;
}

/** Our (tfjs) shape for a timm shape of the given role. */
export function ourShape(e: Pick<StateEntry, 'role' | 'timmShape'>): number[] {
  const s = e.timmShape;
  if (e.role === 'conv_weight') return [s[2], s[3], s[1], s[0]]; // OIHW -> HWIO
  if (e.role === 'fc_weight') return [s[1], s[0]]; // [out, in] -> [in, out]
  return [...s];
}

let instances = 0;

export class VariableStore {
  readonly entries: ModelVariable[] = [];
  private readonly byName = new Map<string, ModelVariable>();
  private readonly tag = `m${++instances}`;

  /** Creates the variable for `e` holding `init` (our layout), which the store takes over. */
  add(e: StateEntry, init: tf.Tensor): ModelVariable {
    if (this.byName.has(e.name)) throw new Error(`duplicate model variable ${e.name}`);
    const shape = ourShape(e);
    if (init.shape.join() !== shape.join()) {
      throw new Error(`${e.name}: initial value has shape [${init.shape}], want [${shape}]`);
    }
    const trainable = e.kind === 'parameter';
    const variable = tf.variable(init, trainable, `${this.tag}/${e.name}`, e.dtype === 'int64' ? 'int32' : 'float32');
    init.dispose();
    const mv: ModelVariable = { ...e, shape, variable, noWeightDecay: trainable && isNoWeightDecay(e) };
    this.entries.push(mv);
    this.byName.set(e.name, mv);
    return mv;
  }

  get(name: string): ModelVariable {
    const v = this.byName.get(name);
    if (!v) throw new Error(`model has no variable '${name}'`);
    return v;
  }

  has(name: string): boolean {
    return this.byName.has(name);
  }

  dispose(): void {
    for (const e of this.entries) e.variable.dispose();
  }
}
