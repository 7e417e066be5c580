// The real graph: dataset -> train:<recipe> -> eval:<recipe> -> compare.
//
//   make-dataset:embedded -> prepare:embedded ┐        (default: the synthetic dataset)
//   prepare:imagenet  (with --set data=DIR)   ┴-> train:<id> -> eval:<id> -> compare
//
// Every recipe of recipes/index.ts gets a train and an eval stage (a1, a2, a3 and the
// earlier procedures); `compare` reports the RSB ones. The profile (`--profile`, default
// 'embedded', or 'imagenet' when a data folder is given) scales each recipe by stated rules
// (src/pipeline/profiles.ts); the recipe and profile objects are stage params, so they are
// part of the cache key.
//
// This module is imported by pipeline.ts, which must start fast: no tfjs, no sharp here.
import { Type } from '@sinclair/typebox';
import { defineGraph, type Graph, type GraphBuildOptions } from '../graph/index.ts';
import type { StageDecl } from '../graph/index.ts';
import { recipes, rsbRecipeIds } from '../../recipes/index.ts';
import { getProfile } from './profiles.ts';
import { CompareParams, EvalParams, TrainParams } from './params.ts';
import type { BackendChoice } from '../engine/fingerprint.ts';
import type { DecoderName } from '../data/transforms/options.ts';

/** Options beyond the orchestrator's: `--set data=DIR`, `--set backend=wasm`, `--set decoder=exact`, or fields a caller passes directly. */
export interface DefinitionOptions extends GraphBuildOptions {
  /** A real ImageNet-layout folder; absent: the embedded synthetic dataset. */
  data?: string;
  backend?: BackendChoice;
  /** JPEG decoder of the training stages: 'fast' (default) or 'exact'. */
  decoder?: DecoderName;
}

const BACKENDS = ['auto', 'tensorflow', 'wasm', 'cpu'] as const;
const DECODERS = ['fast', 'exact'] as const;

/**
 * The prepare:imagenet settings a user may switch from the pipeline: `--set max-side=N`
 * (re-encode larger images, a common way to shrink ImageNet's 140 GB) and `--set exif=apply`
 * (rotate EXIF-oriented files upright instead of reading them as PIL/timm do). Written out in
 * full so the key records them.
 */
function prepareParams(vars: Readonly<Record<string, string>>): { maxSide: number | null; exifOrientation: 'ignore' | 'apply' } {
  const m = vars['max-side'];
  const maxSide = m === undefined ? null : Number(m);
  if (maxSide !== null && !(Number.isInteger(maxSide) && maxSide >= 16)) throw new Error(`--set max-side=${m}: expected a whole number of pixels >= 16`);
  const exif = vars.exif ?? 'ignore';
  if (exif !== 'ignore' && exif !== 'apply') throw new Error(`--set exif=${exif}: expected one of ignore, apply`);
  return { maxSide, exifOrientation: exif };
}

export function buildGraph(opts: DefinitionOptions): Graph {
  const vars = opts.vars ?? {};
  const data = opts.data ?? vars.data;
  const profileId = opts.profile ?? vars.profile ?? (data ? 'imagenet' : 'embedded');
  const profile = getProfile(profileId);
  const backend = (opts.backend ?? vars.backend ?? 'auto') as BackendChoice;
  if (!BACKENDS.includes(backend)) throw new Error(`--set backend=${backend}: expected one of ${BACKENDS.join(', ')}`);
  const decoder = (opts.decoder ?? vars.decoder ?? 'fast') as DecoderName;
  if (!DECODERS.includes(decoder)) throw new Error(`--set decoder=${decoder}: expected one of ${DECODERS.join(', ')}`);
  const devices = Math.max(1, opts.devices || 1);

  const stages: StageDecl[] = [];
  let datasetStage: string;
  let datasetName: string;
  if (data) {
    datasetStage = 'prepare:imagenet';
    datasetName = `ImageNet-layout folder '${data.split(/[\\/]/).filter(Boolean).pop()}'`;
    stages.push({
      id: datasetStage,
      script: 'stages/prepare.ts',
      description: 'index an ImageNet-layout folder into shards (train + val)',
      paramsSchema: Type.Object({ maxSide: Type.Union([Type.Integer({ minimum: 16 }), Type.Null()]), exifOrientation: Type.Union([Type.Literal('ignore'), Type.Literal('apply')]) }),
      params: prepareParams(vars),
      inputs: { images: data },
      outputs: ['dataset.json'],
    });
  } else {
    const d = profile.dataset;
    datasetName = `embedded synthetic dataset (${d.classes} classes, ${d.trainPerClass} train / ${d.valPerClass} val images per class)`;
    stages.push({
      id: 'make-dataset:embedded',
      script: 'stages/make-dataset.ts',
      description: 'generate the synthetic ImageNet-layout dataset (real JPEG files)',
      paramsSchema: Type.Object({ classes: Type.Integer(), trainPerClass: Type.Integer(), valPerClass: Type.Integer(), seed: Type.Integer() }),
      params: { classes: d.classes, trainPerClass: d.trainPerClass, valPerClass: d.valPerClass, seed: 0 },
    });
    datasetStage = 'prepare:embedded';
    stages.push({
      id: datasetStage,
      script: 'stages/prepare.ts',
      description: 'index the embedded dataset into shards (train + val)',
      paramsSchema: Type.Object({}, { additionalProperties: true }),
      params: {},
      upstream: ['make-dataset:embedded'],
      outputs: ['dataset.json'],
    });
  }

  for (const recipe of Object.values(recipes)) {
    stages.push({
      id: `train:${recipe.id}`,
      script: 'stages/train.ts',
      description: `train ${recipe.title} (profile ${profile.id})`,
      paramsSchema: TrainParams,
      // The worker count is a param, so it enters the key: each worker keeps its own
      // BatchNorm batch statistics and the gradient sum's order follows the split, so 1 and 2
      // workers train to (slightly) different weights, and a cached result of one must not
      // answer for the other. The stage gets exactly this many device ids (resources below).
      params: { recipe, profile, backend, workers: devices, decoder },
      upstream: [datasetStage],
      outputs: ['model.ckpt', 'model.safetensors', 'metrics.jsonl', 'run.json'],
      resources: { devices },
      fingerprint: 'engine',
      // The recipe reaches the stage as params; the registry is only for running it by hand.
      paramModules: ['recipes/index.ts'],
    });
    stages.push({
      id: `eval:${recipe.id}`,
      script: 'stages/evaluate.ts',
      description: `top-1/top-5 of ${recipe.id} at its test resolution, crop and interpolation`,
      paramsSchema: EvalParams,
      params: { recipe, profile, backend },
      upstream: [datasetStage, `train:${recipe.id}`],
      outputs: ['metrics.json'],
      resources: { devices: 1 },
      fingerprint: 'engine',
      paramModules: ['recipes/index.ts'],
    });
  }

  const reported = rsbRecipeIds.filter((id) => recipes[id]);
  stages.push({
    id: 'compare',
    script: 'stages/compare.ts',
    description: 'report.md + report.html: our top-1 beside the paper, learning curves, LR schedule',
    paramsSchema: CompareParams,
    params: { recipes: [...reported], dataset: `${datasetName}, profile '${profile.id}'` },
    upstream: reported.flatMap((id) => [`train:${id}`, `eval:${id}`]),
    outputs: ['report.md', 'report.html'],
  });

  return defineGraph({ root: new URL('../..', import.meta.url), defaultTargets: ['compare'], stages });
}
