// Stage eval:<recipe>: top-1 / top-5 and per-class accuracy on the val split, at the
// recipe's test resolution, crop and interpolation (scaled by the profile like training).
//
//   npx tsx stages/evaluate.ts --data PREPARED_DIR --checkpoint TRAIN_OUT/model.ckpt --recipe a1 --profile embedded --out DIR
//   npx tsx stages/evaluate.ts --data IMAGENET_PREPARED --weights resnet50.a1_in1k.safetensors --recipe a1 --profile imagenet --out DIR
//   npx tsx stages/evaluate.ts --context FILE                                            (orchestrator)
//
// --weights imports a timm safetensors file (e.g. the published RSB weights) into the
// recipe's architecture, so a user can score them on their own ImageNet val.
import { Command } from 'commander';
import { Value } from '@sinclair/typebox/value';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readStageContext } from '../src/graph/context.ts';
import { EvalParams } from '../src/pipeline/params.ts';
import { getProfile } from '../src/pipeline/profiles.ts';
import { getRecipe } from '../recipes/index.ts';
import type { EvalJob } from '../src/train/eval-job.ts';
import type { BackendChoice } from '../src/engine/fingerprint.ts';

function parseBackend(v: string): BackendChoice {
  if (v === 'auto' || v === 'tensorflow' || v === 'wasm' || v === 'cpu') return v;
  throw new Error(`--backend: unknown backend '${v}' (expected auto, tensorflow, wasm or cpu)`);
}

async function main(): Promise<void> {
  const program = new Command()
    .name('stages/evaluate.ts')
    .description("Top-1/top-5 and per-class accuracy of a trained checkpoint or imported timm weights, at the recipe's test resolution, crop and interpolation.")
    .option('--context <file>', 'stage context JSON written by the orchestrator (src/graph/context.ts)')
    .option('--data <dir>', 'prepared dataset folder (output of stages/prepare.ts)')
    .option('--checkpoint <file>', 'model.ckpt written by stages/train.ts')
    .option('--weights <file>', 'a timm .safetensors file (e.g. resnet50.a1_in1k) to import and score')
    .option('--arch <name>', "architecture of --weights (default: the recipe's, resnet50)")
    .option('--recipe <id>', 'recipe whose eval protocol to use', 'a1')
    .option('--profile <id>', 'scale profile (test resolution scaling): embedded, tiny or imagenet', 'embedded')
    .option('--split <split>', 'val or train', 'val')
    .option('--backend <name>', 'auto, tensorflow, wasm or cpu', 'auto')
    .option('--out <dir>', 'output folder for metrics.json')
    .parse();
  const o = program.opts<{ context?: string; data?: string; checkpoint?: string; weights?: string; arch?: string; recipe: string; profile: string; split: string; backend: string; out?: string }>();
  let job: EvalJob;
  if (o.context) {
    const ctx = readStageContext(o.context);
    if (!Value.Check(EvalParams, ctx.params)) {
      const e = [...Value.Errors(EvalParams, ctx.params)][0];
      throw new Error(`${o.context}: params${e?.path || '/'}: ${e?.message}`);
    }
    const ups = Object.values(ctx.upstream);
    const dataDir = ups.find((d) => existsSync(join(d, 'dataset.json')));
    const trainDir = ups.find((d) => existsSync(join(d, 'model.ckpt')));
    if (!dataDir) throw new Error(`${o.context}: no upstream holds a prepared dataset (dataset.json)`);
    if (!trainDir) throw new Error(`${o.context}: no upstream holds a trained model (model.ckpt)`);
    job = { recipe: ctx.params.recipe, profile: ctx.params.profile, backend: ctx.params.backend, dataDir, outDir: ctx.outDir, checkpoint: join(trainDir, 'model.ckpt'), split: 'val' };
  } else {
    if (!o.data || !o.out) program.error('give --data PREPARED_DIR, --out DIR and --checkpoint FILE or --weights FILE (or --context FILE); see --help');
    if (!o.checkpoint && !o.weights) program.error('give --checkpoint FILE or --weights FILE');
    if (o.split !== 'val' && o.split !== 'train') program.error(`--split: expected val or train, got '${o.split}'`);
    job = { recipe: getRecipe(o.recipe), profile: getProfile(o.profile), backend: parseBackend(o.backend), dataDir: o.data!, outDir: o.out!, checkpoint: o.checkpoint, weights: o.weights, arch: o.arch, split: o.split as 'val' | 'train' };
  }
  const { runEvaluation } = await import('../src/train/eval-job.ts');
  const m = await runEvaluation(job);
  mkdirSync(job.outDir, { recursive: true });
  writeFileSync(join(job.outDir, 'metrics.json'), JSON.stringify(m, null, 2) + '\n');
  console.log(`eval ${m.recipe}: top-1 ${m.top1.toFixed(2)} %, top-5 ${m.top5.toFixed(2)} % on ${m.count} ${job.split} images at ${m.imageSize} px (crop ${m.cropPct}, ${m.interpolation}); chance ${(100 / m.perClass.length).toFixed(1)} %`);
}

main().catch((e: Error) => {
  console.error(`evaluate: ${e.message}`);
  process.exit(1);
});
