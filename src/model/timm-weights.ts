// Our model <-> timm state dicts. Names are identical by construction (src/model/resnet.ts
// names its variables after timm's keys); only layouts differ: conv OIHW <-> HWIO, linear
// [out, in] <-> [in, out], and num_batches_tracked is int64 in PyTorch, int32 here.
import { tf } from './tf.ts';
import type { ResNet } from './resnet.ts';
import type { ModelVariable } from './variables.ts';
import { toOurLayout, toTimmLayout } from './layout.ts';
import { readSafetensors, writeSafetensors, type SafeTensor } from './safetensors.ts';

export const TIMM_LAYOUT_NOTE = 'PyTorch (conv OIHW, linear OI)';

/** The model's state as a timm state dict (PyTorch layout, state-dict order), ready to serialise. */
export function exportTimmState(model: ResNet): Map<string, SafeTensor> {
  const out = new Map<string, SafeTensor>();
  for (const v of model.variables) {
    if (v.role === 'bn_num_batches_tracked') {
      const count = v.variable.dataSync() as Int32Array;
      out.set(v.name, { dtype: 'I64', shape: [], data: BigInt64Array.of(BigInt(count[0])) });
    } else {
      const ours = v.variable.dataSync() as Float32Array;
      out.set(v.name, { dtype: 'F32', shape: [...v.timmShape], data: toTimmLayout(v.role, v.timmShape, Float32Array.from(ours)) });
    }
  }
  return out;
}

export interface ImportReport {
  loaded: string[];
  /** Model entries the source lacked (left as they were; only num_batches_tracked may be missing under strict). */
  missing: string[];
  /** Source entries the model has no use for. */
  unexpected: string[];
}

export interface ImportOptions {
  /**
   * Default true: a missing or unexpected entry is an error, as in timm's strict load; missing
   * num_batches_tracked counters are accepted, as PyTorch's BatchNorm accepts them.
   */
  strict?: boolean;
  /** Names the source in error messages (a file path). */
  source?: string;
}

/**
 * Loads a timm state dict into the model (assigning each variable). Shapes and dtypes are
 * checked against the model before anything is assigned, so a bad file leaves the model intact.
 */
export function importTimmState(model: ResNet, state: ReadonlyMap<string, SafeTensor>, opts: ImportOptions = {}): ImportReport {
  const strict = opts.strict ?? true;
  const src = opts.source ?? 'state dict';
  const loaded: string[] = [], missing: string[] = [], unexpected: string[] = [];
  const plan: [ModelVariable, SafeTensor][] = [];
  for (const v of model.variables) {
    const t = state.get(v.name);
    if (!t) {
      missing.push(v.name);
      continue;
    }
    const want = v.timmShape;
    // PyTorch saves num_batches_tracked as a 0-d tensor; accept [1] too (some exporters do that).
    const shapeOk = t.shape.join() === want.join() || (want.length === 0 && t.shape.length === 1 && t.shape[0] === 1);
    if (!shapeOk) throw new Error(`${src}: '${v.name}' has shape [${t.shape}], the model (${model.arch}) wants [${want}]`);
    const intWanted = v.dtype === 'int64';
    const isInt = t.dtype === 'I64' || t.dtype === 'I32';
    if (intWanted !== isInt) throw new Error(`${src}: '${v.name}' has dtype ${t.dtype}, want ${intWanted ? 'I64' : 'a float type'}`);
    plan.push([v, t]);
  }
  for (const k of state.keys()) if (!model.hasVariable(k)) unexpected.push(k);
  // Like PyTorch's BatchNorm, tolerate files without num_batches_tracked (older checkpoints
  // and some published weights omit it): the counter only matters when momentum is None.
  const fatalMissing = missing.filter((k) => !k.endsWith('.num_batches_tracked'));
  if (strict && (fatalMissing.length || unexpected.length)) {
    const parts = [];
    if (fatalMissing.length) parts.push(`missing ${fatalMissing.length} (${fatalMissing.slice(0, 5).join(', ')}${fatalMissing.length > 5 ? ', ...' : ''})`);
    if (unexpected.length) parts.push(`unexpected ${unexpected.length} (${unexpected.slice(0, 5).join(', ')}${unexpected.length > 5 ? ', ...' : ''})`);
    throw new Error(`${src}: does not match ${model.arch}: ${parts.join('; ')}`);
  }
  for (const [v, t] of plan) {
    if (v.dtype === 'int64') {
      const n = Number(t.data[0]);
      if (!Number.isSafeInteger(n) || n > 0x7fffffff) throw new Error(`${src}: '${v.name}' = ${t.data[0]} does not fit int32`);
      tf.tidy(() => v.variable.assign(tf.scalar(n, 'int32')));
    } else {
      const f32 = t.data instanceof Float32Array ? t.data : Float32Array.from(t.data as Float64Array);
      const ours = toOurLayout(v.role, v.timmShape, f32);
      tf.tidy(() => v.variable.assign(tf.tensor(ours, v.shape, 'float32')));
    }
    loaded.push(v.name);
  }
  return { loaded, missing, unexpected };
}

/** Writes the model as a timm-loadable .safetensors file (PyTorch layout, state-dict order). */
export function saveTimmSafetensors(model: ResNet, path: string, metadata: Record<string, string> = {}): void {
  // Caller's keys first, then format/layout: with metadata {source} this reproduces the
  // goldens' files byte for byte. format 'pt' is what safetensors' torch loader expects.
  writeSafetensors(path, exportTimmState(model), { ...metadata, format: metadata.format ?? 'pt', layout: metadata.layout ?? TIMM_LAYOUT_NOTE });
}

/** Loads a timm .safetensors file (e.g. resnet50.a1_in1k's model.safetensors) into the model. */
export function loadTimmSafetensors(model: ResNet, path: string, opts: Omit<ImportOptions, 'source'> = {}): ImportReport {
  return importTimmState(model, readSafetensors(path).tensors, { ...opts, source: path });
}
