// One evaluation: a trained checkpoint or imported timm weights, scored on a prepared split
// at the recipe's test resolution (scaled by the profile like training), crop_pct and
// interpolation. stages/evaluate.ts runs it; tests call it directly.
import { existsSync } from 'node:fs';
import type { Recipe } from '../../recipes/schema.ts';
import { scaleRecipe, type Profile } from '../pipeline/profiles.ts';
import type { BackendChoice } from '../engine/fingerprint.ts';
import { selectBackend } from '../engine/backend.ts';
import { createResNet, type ResNet } from '../model/resnet.ts';
import { RESNET_ARCHS, type ResNetArchName } from '../model/resnet-archs.ts';
import { readSafetensors } from '../model/safetensors.ts';
import { loadTimmSafetensors } from '../model/timm-weights.ts';
import { evalOptionsFromRecipe } from '../data/transforms/index.ts';
import { openShards } from '../data/shards.ts';
import { loadTrainedModel } from './loop.ts';
import { scoreSplit } from './evaluate-model.ts';
import type { EvalMetrics } from './metrics.ts';

export interface EvalJob {
  recipe: Recipe;
  profile: Profile;
  backend: BackendChoice;
  dataDir: string;
  outDir: string;
  /** model.ckpt of a train stage ... */
  checkpoint?: string;
  /** ... or a timm .safetensors file. */
  weights?: string;
  /** Architecture of `weights` (default: the recipe's). The class count is read from the file's fc.bias. */
  arch?: string;
  split: 'val' | 'train';
}

/** A timm state dict in a fresh model of `arch`, with as many classes as its fc.bias. */
function importWeights(file: string, arch: string): ResNet {
  if (!(arch in RESNET_ARCHS)) throw new Error(`unknown architecture '${arch}' (known: ${Object.keys(RESNET_ARCHS).join(', ')})`);
  const fcBias = readSafetensors(file).tensors.get('fc.bias');
  if (!fcBias) throw new Error(`${file}: no fc.bias tensor, so not a timm ResNet state dict`);
  const model = createResNet(arch as ResNetArchName, { numClasses: fcBias.shape[0], init: 'none' });
  loadTimmSafetensors(model, file); // strict: every tensor accounted for, or an error naming the file
  return model;
}

export async function runEvaluation(job: EvalJob): Promise<EvalMetrics> {
  const t0 = performance.now();
  const backend = await selectBackend(job.backend);
  const r = job.recipe;
  const reader = openShards(job.dataDir, job.split);
  const classes = reader.classes;
  await reader.close();
  let model: ResNet;
  if (job.weights) {
    model = importWeights(job.weights, job.arch ?? r.model.arch);
  } else {
    if (!job.checkpoint || !existsSync(job.checkpoint)) throw new Error(`no checkpoint at ${job.checkpoint}: train first or give --weights`);
    model = loadTrainedModel(job.checkpoint);
  }
  const what = job.weights ?? job.checkpoint!;
  try {
    if (model.options.numClasses !== classes.length) throw new Error(`${what}: ${model.options.numClasses} classes, but ${job.dataDir} has ${classes.length}`);
    const size = scaleRecipe(
      { arch: r.model.arch, epochs: r.epochs, warmupEpochs: 0, cooldownEpochs: 0, trainSize: r.train.resolution, testSize: r.eval.resolution, globalBatch: r.globalBatch, lr: 1, warmupLr: 0, minLr: 0 },
      job.profile,
    ).testSize;
    const scores = await scoreSplit(model, job.dataDir, job.split, evalOptionsFromRecipe({ ...r.eval, resolution: size }), r.train.mean, r.train.std);
    return {
      recipe: r.id, source: job.weights ? 'weights' : 'checkpoint', top1: scores.top1, top5: scores.top5, count: scores.count, imageSize: size,
      cropPct: r.eval.cropPct, interpolation: r.eval.interpolation, backend: backend.name,
      perClass: scores.perClass.map((c) => ({ ...c, name: classes[c.index] ?? String(c.index) })),
      seconds: (performance.now() - t0) / 1000,
    };
  } finally {
    model.dispose();
  }
}
