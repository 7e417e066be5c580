// The training loop, top to bottom. One optimizer update is:
//
//   sampler order -> micro-batches of uint8 NHWC pixels (decode, RRC, flip, RandAugment)
//   -> mixup/cutmix per micro-batch (uint8, soft targets) -> replicas: normalise, forward
//   with drop path, BCE with threshold, backward, sum of n * grad -> divide by the global
//   batch -> LAMB (param groups, internal clip) at the schedule's LR.
//
// At each epoch end: BN running stats averaged over replicas, evaluation on val (learning
// curve), one metrics.jsonl line, an atomic checkpoint in workDir. SIGINT/SIGTERM write a
// checkpoint after the update in flight and exit; a rerun resumes from it.
//
// Resuming is exact because nothing random is carried in state: the sampler's order, the
// crops, the mixup draws and the drop-path masks all come from counter-based streams keyed
// by (seed, purpose, epoch, position). Model, BN stats, optimizer moments and the position
// (epoch, update) are all that a checkpoint holds.
import { setImmediate } from 'node:timers';
import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { tf } from '../model/tf.ts';
import { createResNet, type ResNet } from '../model/resnet.ts';
import { saveTimmSafetensors } from '../model/timm-weights.ts';
import type { ResNetArchName } from '../model/resnet-archs.ts';
import { selectBackend } from '../engine/backend.ts';
import type { BackendChoice } from '../engine/fingerprint.ts';
import { createReplicas, type Replicas } from '../engine/parallel.ts';
import { openShards, type ShardReader } from '../data/shards.ts';
import { RepeatAugSampler, ShuffleSampler } from '../data/sampler.ts';
import { evalOptionsFromRecipe, trainOptionsFromRecipe, fastDecoderStatus, type DecoderName } from '../data/transforms/index.ts';
import { streamFor } from '../util/rng.ts';
import { recipeHash } from '../../recipes/hash.ts';
import type { Recipe } from '../../recipes/schema.ts';
import type { Profile } from '../pipeline/profiles.ts';
import { createOptimizer, type Optimizer, type OptimizerState } from './optimizer.ts';
import { createLrSchedule, type LrSchedule } from './schedule.ts';
import { applyMix, drawMix, mixConfigFromRecipe } from './mixup.ts';
import { smoothedOneHot } from './bce.ts';
import { loadCheckpoint, saveCheckpoint, type NamedTensor } from './checkpoint.ts';
import { appendEpoch, readEpochs, writeEpochs, writeRunInfo, type EpochMetrics, type RunInfo } from './metrics.ts';
import { createProgress, type Progress } from './progress.ts';
import { planRun, type RunPlan } from './plan.ts';
import { createLoader, type Batch } from '../data/loader.ts';
import { evaluateLogits, loadEvalSet, predict, type EvalSet } from './evaluate-model.ts';
import { defaultCapabilities, unhonouredIngredients } from './ingredients.ts';
import type { MicroBatch, StepConfig } from './step.ts';

export interface TrainOptions {
  stage: string;
  recipe: Recipe;
  profile: Profile;
  /** A prepared dataset folder (dataset.json, shards) with train and val splits. */
  dataDir: string;
  /** Final outputs: model.ckpt, metrics.jsonl, run.json. */
  outDir: string;
  /** Resumable state: checkpoint.bin, metrics.jsonl of the run so far. */
  workDir: string;
  devices: number;
  /** Device ids handed by the orchestrator (GPU ids for the process transport). */
  deviceIds?: string[];
  /** Replica transport; default: 'process' on the tensorflow backend, else 'thread'. */
  transport?: 'thread' | 'process';
  backend: BackendChoice;
  seed?: number;
  progress?: Progress;
  log?: (line: string) => void;
  /** JPEG decoder of the training transform (default 'fast'; evaluation always decodes exactly). */
  decoder?: DecoderName;
  /** Decoding threads of the data loader (default 1: on small machines the cores compute). */
  loaderWorkers?: number;
  /** Tests: stop (as if killed) once this many epochs are complete in this session. */
  stopAfterEpochs?: number;
}

export interface TrainResult {
  plan: RunPlan;
  metrics: EpochMetrics[];
  resumedFrom: number | null;
  /** True when the run stopped early (signal or stopAfterEpochs) with a checkpoint to resume from. */
  interrupted: boolean;
}

const CKPT = 'checkpoint.bin';

/** Model parameters, buffers and optimizer slots as named float tensors for a checkpoint. */
function snapshot(model: ResNet, opt: Optimizer): { tensors: Map<string, NamedTensor>; state: Omit<OptimizerState, 'slots'> } {
  const tensors = new Map<string, NamedTensor>();
  for (const v of model.variables) tensors.set(`model/${v.name}`, { shape: v.shape, data: Float32Array.from(v.variable.dataSync() as ArrayLike<number>) });
  const st = opt.getState();
  for (const [p, slots] of Object.entries(st.slots)) {
    for (const [s, data] of Object.entries(slots)) tensors.set(`opt/${p}/${s}`, { shape: [data.length], data });
  }
  return { tensors, state: { kind: st.kind, groupSteps: st.groupSteps } };
}

function restore(model: ResNet, opt: Optimizer, tensors: Map<string, NamedTensor>, state: Omit<OptimizerState, 'slots'>, file: string): void {
  for (const v of model.variables) {
    const t = tensors.get(`model/${v.name}`);
    if (!t || t.data.length !== v.variable.size) throw new Error(`${file}: no matching tensor for model variable ${v.name}`);
    const val = v.variable.dtype === 'int32' ? tf.tensor(Int32Array.from(t.data, Math.round), v.shape, 'int32') : tf.tensor(t.data, v.shape, 'float32');
    v.variable.assign(val);
    val.dispose();
  }
  const slots: OptimizerState['slots'] = {};
  for (const [name, t] of tensors) {
    if (!name.startsWith('opt/')) continue;
    const rest = name.slice(4);
    const cut = rest.lastIndexOf('/');
    (slots[rest.slice(0, cut)] ??= {})[rest.slice(cut + 1)] = Float32Array.from(t.data);
  }
  opt.setState({ ...state, slots });
}

/** The epoch's sample order and each sample's position (key of its random streams). */
export function epochOrder(plan: RunPlan, datasetSize: number, epoch: number, seed: number): Int32Array {
  if (plan.repeats > 1) {
    // One process stands in for `microBatchesPerUpdate` replicas: the copies of an image fall
    // in different micro-batches, as timm puts them on different GPUs.
    const s = new RepeatAugSampler({ datasetSize, numReplicas: plan.microBatchesPerUpdate, numRepeats: plan.repeats, selectedRound: plan.selectedRound, seed });
    return s.globalOrder(epoch, plan.microBatch);
  }
  return new ShuffleSampler({ datasetSize, seed }).indices(epoch);
}

export async function train(o: TrainOptions): Promise<TrainResult> {
  const log = o.log ?? ((l: string) => process.stderr.write(l + '\n'));
  // Bad data fails before anything is created: the error names the folder.
  const trainSet: ShardReader = openShards(o.dataDir, 'train');
  mkdirSync(o.outDir, { recursive: true });
  mkdirSync(o.workDir, { recursive: true });
  const backend = await selectBackend(o.backend, { log });
  const notHonoured = unhonouredIngredients(o.recipe, defaultCapabilities(backend.name, o.devices)).map((u) => ({ field: u.field, reason: `${u.reason}; ${u.instead}` }));
  for (const n of notHonoured) log(`not honoured: ${n.field}: ${n.reason}`);

  // ---- data
  const plan = planRun(o.recipe, o.profile, { trainCount: trainSet.count, classes: trainSet.classes.length }, o.seed);
  const seed = o.seed ?? o.recipe.seed;
  const recipe = o.recipe;
  for (const r of plan.rules) log(`profile ${o.profile.id}: ${r}`);
  const trainTf = trainOptionsFromRecipe({ ...recipe.train, resolution: plan.scaled.trainSize }, o.decoder ? { decoder: o.decoder } : {});
  const evalTf = evalOptionsFromRecipe({ ...recipe.eval, resolution: plan.scaled.testSize });
  const mixCfg = { ...mixConfigFromRecipe(recipe), numClasses: plan.numClasses };
  const mixOn = mixCfg.mixupAlpha > 0 || mixCfg.cutmixAlpha > 0;

  // ---- model, optimizer, schedule
  const arch = plan.scaled.arch as ResNetArchName;
  const modelOptions = { numClasses: plan.numClasses, dropPathRate: recipe.model.dropPathRate, zeroInitLast: recipe.model.zeroInitLastBn, seed };
  const model = createResNet(arch, modelOptions);
  const opt = await createOptimizer(recipe.optimizer, model.parameters.map((p) => ({ name: p.name, variable: p.variable })));
  const sched = createLrSchedule(plan.schedule, plan.updatesPerEpoch);
  const step: StepConfig = {
    numClasses: plan.numClasses, mean: recipe.train.mean, std: recipe.train.std, seed,
    loss: recipe.loss.kind === 'bce' ? { kind: 'bce', targetThreshold: recipe.loss.targetThreshold } : { kind: 'ce' },
  };

  // ---- resume
  const ckptFile = join(o.workDir, CKPT);
  const workMetrics = join(o.workDir, 'metrics.jsonl');
  let startEpoch = 0, startUpdate = 0, updates = 0, elapsedBefore = 0, resumes = 0;
  let partial = { lossSum: 0, correct: 0, samples: 0, seconds: 0 };
  let resumedFrom: number | null = null;
  // The plan's key, plus what changes the trajectory without changing the plan: the training
  // decoder (other pixels) and the worker count (BatchNorm statistics are per worker). A stage
  // run by hand into the same folder with either changed must start afresh, not resume.
  const runKey = `${plan.runKey}|decoder ${trainTf.decoder}|workers ${o.devices}`;
  const ck = loadCheckpoint(ckptFile);
  if (ck && ck.meta.runKey === runKey) {
    const extra = ck.meta.extra as { optimizer: Omit<OptimizerState, 'slots'>; nextUpdate: number; partial: typeof partial; resumes: number };
    restore(model, opt, ck.tensors, extra.optimizer, ckptFile);
    startEpoch = ck.meta.nextEpoch;
    startUpdate = extra.nextUpdate;
    updates = ck.meta.updates;
    elapsedBefore = ck.meta.elapsed;
    partial = extra.partial;
    resumes = extra.resumes + 1;
    resumedFrom = startEpoch;
    writeEpochs(workMetrics, readEpochs(workMetrics).filter((m) => m.epoch < startEpoch));
    log(`resuming from ${ckptFile}: epoch ${startEpoch + 1}, update ${startUpdate} of ${plan.updatesPerEpoch}`);
  } else {
    if (ck) log(`${ckptFile} belongs to another run (recipe, profile, dataset, seed, decoder or worker count changed): starting afresh`);
    writeEpochs(workMetrics, []);
  }

  const loader = await createLoader({
    dir: o.dataDir, split: 'train', mode: 'train', batchSize: plan.microBatch, seed, train: trainTf,
    sampler: { indices: (e) => epochOrder(plan, trainSet.count, e, seed) }, dropLast: true, workers: o.loaderWorkers ?? 1,
  });
  // Replicas: worker threads sharing memory for wasm/cpu (one per core); a process per device
  // for tfjs-node(-gpu), since CUDA binds devices per process (CUDA_VISIBLE_DEVICES).
  const devices = o.devices;
  if (devices > plan.microBatchesPerUpdate) {
    log(`notice: ${devices} devices but only ${plan.microBatchesPerUpdate} micro-batches per update: ${devices - plan.microBatchesPerUpdate} will idle (use a profile with a smaller micro-batch)`);
  }
  const transport = o.transport ?? (backend.name === 'tensorflow' ? 'process' : 'thread');
  const replicas: Replicas = await createReplicas(devices, { backend: o.backend === 'auto' ? backend.name : o.backend, arch, modelOptions, step }, model, { transport, deviceIds: o.deviceIds });
  await replicas.syncAll(model);

  const runInfo: RunInfo = {
    stage: o.stage, recipe: recipe.id, recipeHash: recipeHash(recipe), profile: o.profile.id, scaling: plan.rules,
    backend: backend.name, versions: backend.versions, devices: replicas.count, arch, trainSize: plan.scaled.trainSize,
    epochs: plan.totalEpochs, globalBatch: plan.scaled.globalBatch, microBatch: plan.microBatch, lr: plan.scaled.lr,
    notHonoured, datasetClasses: plan.numClasses, trainSamples: trainSet.count, seed,
    startedAt: new Date().toISOString(), finishedAt: null, resumes, lrSchedule: sampleSchedule(sched, plan.updatesPerEpoch),
    decoder: { train: trainTf.decoder, eval: evalTf.decoder, detail: trainTf.decoder === 'fast' ? `fast: ${fastDecoderStatus().detail}` : 'exact: sharp' },
  };
  writeRunInfo(join(o.workDir, 'run.json'), runInfo);
  log(`train ${recipe.id}: ${arch} at ${plan.scaled.trainSize} px, ${plan.totalEpochs} epochs x ${plan.updatesPerEpoch} updates of ${plan.scaled.globalBatch} (${plan.microBatchesPerUpdate} micro-batches of ${plan.microBatch}), peak LR ${plan.scaled.lr.toPrecision(4)}, backend ${backend.name}, ${replicas.count} worker(s)${replicas.count > 1 ? `, ${transport} transport` : ''}`);

  // ---- signals: finish the update in flight, checkpoint, exit
  let stopSignal: NodeJS.Signals | null = null;
  const onSignal = (sig: NodeJS.Signals) => {
    if (stopSignal) return;
    stopSignal = sig;
    log(`${sig}: checkpointing after the current update`);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  const progress = o.progress ?? createProgress();
  let evalSet: EvalSet | null = null;
  const metrics = readEpochs(workMetrics);
  let interrupted = false;
  const sessionStart = performance.now();
  let epochsThisSession = 0;

  const save = (nextEpoch: number, nextUpdate: number, part: typeof partial) => {
    const { tensors, state } = snapshot(model, opt);
    saveCheckpoint(ckptFile, {
      meta: { format: 'rsb-checkpoint/1', nextEpoch, updates, elapsed: elapsedBefore + (performance.now() - sessionStart) / 1000, runKey, extra: { optimizer: state, nextUpdate, partial: part, resumes } },
      tensors,
    });
  };

  try {
    for (let epoch = startEpoch; epoch < plan.totalEpochs; epoch++) {
      const B = plan.scaled.globalBatch;
      const S = plan.scaled.trainSize;
      let { lossSum, correct, samples, seconds } = epoch === startEpoch ? partial : { lossSum: 0, correct: 0, samples: 0, seconds: 0 };
      const firstUpdate = epoch === startEpoch ? startUpdate : 0;

      // The loader yields the epoch's micro-batches in order (decoded, cropped, flipped,
      // RandAugmented in its worker threads, prefetched while the replicas compute).
      const batches = loader.epoch(epoch, { startBatch: firstUpdate * plan.microBatchesPerUpdate });
      const nextMicroBatch = async (): Promise<Batch> => {
        const r = await batches.next();
        if (r.done) throw new Error(`loader ran out of batches in epoch ${epoch}`);
        return r.value;
      };
      // One mixup/cutmix draw per micro-batch (timm: one per local batch), keyed by its place in the epoch.
      const loadUpdate = async (u: number): Promise<MicroBatch[]> => {
        const mbs: MicroBatch[] = [];
        for (let j = 0; j < plan.microBatchesPerUpdate; j++) {
          const b = await nextMicroBatch();
          let px = b.images, targets: Float32Array;
          if (mixOn) {
            const draws = drawMix(streamFor(seed, 'mixup', epoch, u * plan.microBatchesPerUpdate + j), mixCfg, S, S);
            const r = applyMix(b.images, b.labels, { batch: b.size, height: S, width: S, channels: 3 }, draws, mixCfg);
            px = r.images;
            targets = r.targets;
          } else {
            targets = smoothedOneHot(b.labels, plan.numClasses, recipe.labelSmoothing);
          }
          mbs.push({ epoch, n: b.size, height: S, width: S, images: px, targets, positions: b.positions });
        }
        return mbs;
      };

      // A prefetch that fails is reported when awaited; the no-op handler keeps Node from
      // calling it unhandled while the replicas are still busy with the current update.
      const prefetch = (u: number) => {
        const p = loadUpdate(u);
        p.catch(() => undefined);
        return p;
      };
      let next = firstUpdate < plan.updatesPerEpoch ? prefetch(firstUpdate) : null;
      let t0 = performance.now();
      for (let u = firstUpdate; u < plan.updatesPerEpoch; u++) {
        const mbs = await next!;
        next = u + 1 < plan.updatesPerEpoch ? prefetch(u + 1) : null;
        const lr = sched.lrAt(epoch, u);
        const g = await replicas.gradients(model, mbs);
        // sum_j n_j grad_j / B: the gradient of the mean loss over the global batch.
        const grads: Record<string, tf.Tensor> = {};
        model.parameters.forEach((p, i) => {
          grads[p.name] = tf.div(g.grads[i], g.samples);
          g.grads[i].dispose();
        });
        opt.step(grads, lr);
        for (const t of Object.values(grads)) t.dispose();
        updates++;
        lossSum += g.lossSum;
        correct += g.correct;
        samples += g.samples;
        const now = performance.now();
        seconds += (now - t0) / 1000;
        t0 = now;
        const rate = samples / Math.max(seconds, 1e-9);
        const left = (plan.totalEpochs - epoch) * plan.updatesPerEpoch - (u + 1);
        progress.update({ epoch, epochs: plan.totalEpochs, step: u + 1, steps: plan.updatesPerEpoch, imagesPerSec: rate, eta: (left * B) / rate, loss: lossSum / samples, lr });
        // One turn of the event loop per update: a signal handler runs only there, and when the
        // loader's batches are already waiting and one device computes in this thread, every
        // await above resolves without one (a small run could finish with SIGTERM unseen).
        await new Promise<void>((resolve) => setImmediate(resolve));
        if (stopSignal && u + 1 < plan.updatesPerEpoch) {
          await next?.catch(() => undefined);
          await batches.return(undefined);
          // With several replicas their BN running stats live in the workers: average them into
          // the lead now (as at an epoch end) so the checkpoint keeps them. Weights and optimizer
          // state resume exactly; the running stats of this partial epoch are averaged once more.
          await replicas.averageBatchNorm(model);
          save(epoch, u + 1, { lossSum, correct, samples, seconds });
          interrupted = true;
          return { plan, metrics, resumedFrom, interrupted };
        }
      }

      await batches.return(undefined); // the order may hold a partial global batch: dropped, as timm drops the last batch
      await replicas.averageBatchNorm(model);
      let evalTop1: number | null = null;
      if (o.profile.evalEveryEpoch) {
        evalSet ??= await loadEvalSet(o.dataDir, 'val', evalTf, o.profile.epochEvalLimit, o.loaderWorkers ?? 1);
        const logits = predict(model, evalSet, recipe.train.mean, recipe.train.std);
        evalTop1 = evaluateLogits(logits, evalSet.labels, plan.numClasses).top1;
      }
      const row: EpochMetrics = {
        epoch, loss: lossSum / samples, lr: sched.lrAt(epoch, plan.updatesPerEpoch - 1),
        trainTop1: (100 * correct) / samples, evalTop1, imagesPerSec: samples / seconds,
        elapsed: elapsedBefore + (performance.now() - sessionStart) / 1000, updates, samples,
      };
      appendEpoch(workMetrics, row);
      metrics.push(row);
      save(epoch + 1, 0, { lossSum: 0, correct: 0, samples: 0, seconds: 0 });
      progress.log(`epoch ${epoch + 1}/${plan.totalEpochs}: loss ${row.loss.toFixed(4)}, lr ${row.lr.toExponential(3)}, train top-1 ${row.trainTop1!.toFixed(1)} %, eval top-1 ${evalTop1 === null ? 'n/a' : evalTop1.toFixed(1) + ' %'}, ${row.imagesPerSec.toFixed(1)} img/s`);
      epochsThisSession++;
      if (stopSignal || (o.stopAfterEpochs !== undefined && epochsThisSession >= o.stopAfterEpochs && epoch + 1 < plan.totalEpochs)) {
        interrupted = true;
        return { plan, metrics, resumedFrom, interrupted };
      }
    }

    // ---- publish: final weights, metrics, run metadata
    const { tensors, state } = snapshot(model, opt);
    const modelOnly = new Map([...tensors].filter(([k]) => k.startsWith('model/')));
    saveCheckpoint(join(o.outDir, 'model.ckpt'), {
      meta: { format: 'rsb-checkpoint/1', nextEpoch: plan.totalEpochs, updates, elapsed: elapsedBefore + (performance.now() - sessionStart) / 1000, runKey, extra: { arch, modelOptions, optimizer: state.kind } },
      tensors: modelOnly,
    });
    // The same weights in timm's layout, loadable with timm.create_model(..., pretrained_cfg_overlay=dict(file=...)).
    saveTimmSafetensors(model, join(o.outDir, 'model.safetensors'), { source: `rsb-pipeline ${o.stage}`, arch });
    copyFileSync(workMetrics, join(o.outDir, 'metrics.jsonl'));
    writeRunInfo(join(o.outDir, 'run.json'), { ...runInfo, finishedAt: new Date().toISOString() });
    return { plan, metrics, resumedFrom, interrupted };
  } finally {
    progress.done();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await replicas.close();
    await loader.close();
    opt.dispose();
    model.dispose();
    await trainSet.close();
  }
}

/** The schedule at up to ~400 updates (every update while the LR ramps up), for the report's chart. */
function sampleSchedule(sched: LrSchedule, updatesPerEpoch: number): { epoch: number; lr: number }[] {
  const total = sched.totalUpdates;
  const stride = Math.max(1, Math.floor(total / 400));
  const out: { epoch: number; lr: number }[] = [];
  let prev = -Infinity;
  for (let k = 0; k < total; k++) {
    const lr = sched.lrForUpdate(k);
    // Keep every point of the warmup ramp, then one every `stride` updates, and the last.
    if (lr > prev || k % stride === 0 || k === total - 1) out.push({ epoch: k / updatesPerEpoch, lr });
    prev = lr;
  }
  return out;
}

/** Reads the model written by a train stage (model.ckpt) back into a fresh model. */
export function loadTrainedModel(file: string): ResNet {
  const ck = loadCheckpoint(file);
  if (!ck) throw new Error(`${file}: no such checkpoint`);
  const extra = ck.meta.extra as { arch?: ResNetArchName; modelOptions?: Record<string, unknown> };
  if (!extra.arch || !extra.modelOptions) throw new Error(`${file}: not a trained-model checkpoint (no arch in its header)`);
  const model = createResNet(extra.arch, { ...extra.modelOptions, init: 'none' });
  for (const v of model.variables) {
    const t = ck.tensors.get(`model/${v.name}`);
    if (!t || t.data.length !== v.variable.size) throw new Error(`${file}: missing or mis-sized tensor for ${v.name}`);
    const val = v.variable.dtype === 'int32' ? tf.tensor(Int32Array.from(t.data, Math.round), v.shape, 'int32') : tf.tensor(t.data, v.shape, 'float32');
    v.variable.assign(val);
    val.dispose();
  }
  return model;
}

