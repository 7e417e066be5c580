// Golden adapter for `resnet`: a tiny timm ResNet run eval-mode, then train-mode with the BCE
// loss and backward, on the backend the harness names (cpu or wasm). See the goldens README.
//
// The loss is the pipeline's own (src/train/bce.ts), so this case checks model + loss + backward
// together, as a training step runs them.
// Checks: eval logits, stem max-pool output and pooled features (eval), train logits, the loss,
// every BN buffer after the one train forward, and the gradients of the named weights
// (transposed back to PyTorch layout). A failing backward (e.g. a kernel the wasm backend lacks)
// becomes a failed check naming the error, while the forward checks still run.
import { join } from 'node:path';
import { decodeTensor, type GoldenCase } from '../format.ts';
import { allClose, exactEqual, scalarClose, type Check } from '../compare.ts';
import type { OpContext } from '../registry.ts';
import { selectBackend, parseBackendChoice } from '../../engine/backend.ts';
import { createResNet, importTimmState, readSafetensors, tf, type BatchStats, type ResNet } from '../../model/index.ts';
import { toTimmLayout } from '../../model/layout.ts';
import { binaryCrossEntropy } from '../../train/bce.ts';

interface ResnetParams {
  resnet_kwargs: { block: string; layers: number[]; channels: number[]; num_classes: number; stem_width: number; zero_init_last: boolean };
  state_dict_file: string;
  state_dict_overrides_file: string | null;
  loss: { smoothing: number; target_threshold: number | null };
  grad_names: string[];
}

/** NHWC data -> NCHW order, to compare with timm's feature maps. */
function nhwcToNchw(x: Float32Array, [n, h, w, c]: number[]): Float32Array {
  const out = new Float32Array(x.length);
  for (let b = 0; b < n; b++) for (let y = 0; y < h; y++) for (let xx = 0; xx < w; xx++) for (let ch = 0; ch < c; ch++) {
    out[((b * c + ch) * h + y) * w + xx] = x[((b * h + y) * w + xx) * c + ch];
  }
  return out;
}

function loadModel(p: ResnetParams, caseDir: string): ResNet {
  const k = p.resnet_kwargs;
  if (k.stem_width !== 64) throw new Error(`resnet case: stem_width ${k.stem_width} not supported (timm's default stem is 64 wide)`);
  const block = k.block === 'Bottleneck' ? 'bottleneck' : k.block === 'BasicBlock' ? 'basic' : null;
  if (!block) throw new Error(`resnet case: unknown block '${k.block}'`);
  const model = createResNet(
    { block, layers: k.layers as [number, number, number, number], channels: k.channels as [number, number, number, number] },
    { numClasses: k.num_classes, zeroInitLast: k.zero_init_last, init: 'none' },
  );
  const state = readSafetensors(join(caseDir, p.state_dict_file)).tensors;
  if (p.state_dict_overrides_file) {
    for (const [name, t] of readSafetensors(join(caseDir, p.state_dict_overrides_file)).tensors) {
      if (!state.has(name)) throw new Error(`${p.state_dict_overrides_file}: overrides unknown entry '${name}'`);
      state.set(name, t);
    }
  }
  importTimmState(model, state, { source: p.state_dict_file });
  return model;
}

export async function run(c: GoldenCase, ctx: OpContext): Promise<Check[]> {
  await selectBackend(parseBackendChoice(ctx.backend), { log: () => {} });
  const p = c.params as unknown as ResnetParams;
  const exp = c.expected as Record<string, any>;
  const tol = c.tolerance;
  const extra = tol as Record<string, unknown>;
  const gradTol = { atol: Number(extra.grads_atol ?? tol.atol), rtol: Number(extra.grads_rtol ?? tol.rtol) };
  const checks: Check[] = [];
  const model = loadModel(p, ctx.caseDir);
  const xin = decodeTensor(c.inputs.x_nhwc, 'inputs.x_nhwc');
  const target = Int32Array.from(decodeTensor(c.inputs.target, 'inputs.target').data);
  // The training loss (src/train/bce.ts, timm's BinaryCrossEntropy) with this case's settings.
  const loss = (logits: tf.Tensor2D) => binaryCrossEntropy(logits, target, { smoothing: p.loss.smoothing, targetThreshold: p.loss.target_threshold });
  const x = tf.tensor4d(xin.data as Float32Array, xin.shape as [number, number, number, number]);
  try {
    // 1. Eval-mode forward with the running stats.
    const ev = model.forward(x, { training: false, features: true });
    const want = (k: string, t: unknown) => decodeTensor(t, `expected.${k}`).data;
    checks.push(allClose('logits_eval', await ev.logits.data(), want('logits_eval', exp.logits_eval), tol));
    const stem = ev.features!.stemPool;
    checks.push(allClose('features_eval.stem_maxpool', nhwcToNchw(await stem.data() as Float32Array, stem.shape), want('stem', exp.features_eval.stem_maxpool_nchw), tol));
    checks.push(allClose('features_eval.pre_logits', await ev.features!.preLogits.data(), want('pre_logits', exp.features_eval.pre_logits), tol));
    tf.dispose([ev.logits, stem, ev.features!.preLogits]);

    // 2-4. Train-mode forward, loss, backward; running stats committed once afterwards.
    let stats: BatchStats[] = [];
    let logitsTrain: Float32Array | null = null;
    let lossValue = NaN;
    let grads: Record<string, tf.Tensor> | null = null;
    try {
      const r = tf.variableGrads(() => {
        const f = model.forward(x, { training: true });
        stats = f.batchStats;
        logitsTrain = f.logits.dataSync() as Float32Array;
        return loss(f.logits);
      }, model.trainableVariables);
      lossValue = (await r.value.data())[0];
      grads = r.grads;
      r.value.dispose();
    } catch (e) {
      checks.push({ name: 'backward', ok: false, detail: `gradient failed on ${ctx.backend}: ${(e as Error).message.split('\n')[0]}` });
      model.discardBatchStats(stats);
      // Still check the train forward and the BN update without the tape.
      const f = model.forward(x, { training: true });
      stats = f.batchStats;
      logitsTrain = await f.logits.data() as Float32Array;
      const l = loss(f.logits);
      lossValue = (await l.data())[0];
      tf.dispose([f.logits, l]);
    }
    model.commitBatchStats(stats);
    checks.push(allClose('logits_train', logitsTrain!, want('logits_train', exp.logits_train), tol));
    checks.push(scalarClose('loss_train', lossValue, Number(exp.loss_train), tol));

    for (const [name, t] of Object.entries(exp.bn_buffers_after_train_forward as Record<string, unknown>)) {
      const v = model.variable(name);
      const got = await v.variable.data();
      if (v.dtype === 'int64') checks.push(exactEqual(`bn.${name}`, Array.from(got), Array.from(want(name, t))));
      else checks.push(allClose(`bn.${name}`, got, want(name, t), tol));
    }

    if (grads) {
      for (const name of p.grad_names) {
        const v = model.variable(name);
        const g = grads[v.variable.name];
        if (!g) {
          checks.push({ name: `grad.${name}`, ok: false, detail: 'no gradient computed' });
          continue;
        }
        const ours = toTimmLayout(v.role, v.timmShape, await g.data() as Float32Array);
        checks.push(allClose(`grad.${name}`, ours, want(name, exp.grads[name]), gradTol));
      }
      tf.dispose(Object.values(grads));
    }
  } finally {
    x.dispose();
    model.dispose();
  }
  return checks;
}
