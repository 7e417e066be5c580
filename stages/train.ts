// Stage train:<recipe>: a prepared dataset + a recipe (scaled by a profile) -> trained model.
//
//   npx tsx stages/train.ts --data PREPARED_DIR --recipe a1 [--profile embedded] --out DIR [--devices 2]   (by hand)
//   npx tsx stages/train.ts --context FILE                                                              (orchestrator)
//
// Outputs (outDir): model.ckpt (weights + BN stats), metrics.jsonl (one line per epoch),
// run.json (backend, devices, versions, recipe hash, scaling rules, ingredients not honoured).
// Resumable state lives in workDir (checkpoint.bin): killing and rerunning continues from
// the last epoch end (or the update where SIGINT/SIGTERM stopped it).
import { Command, InvalidArgumentError } from 'commander';
import { Value } from '@sinclair/typebox/value';
import { join } from 'node:path';
import { readStageContext } from '../src/graph/context.ts';
import { TrainParams } from '../src/pipeline/params.ts';
import { getProfile } from '../src/pipeline/profiles.ts';
import { getRecipe } from '../recipes/index.ts';
import { parseBackendChoice } from '../src/engine/backend.ts';

const int = (name: string, min: number) => (v: string): number => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`${name} must be an integer >= ${min}, got '${v}'`);
  return n;
};

async function main(): Promise<void> {
  const program = new Command()
    .name('stages/train.ts')
    .description('Train a recipe (A1/A2/A3 or an earlier procedure) on a prepared dataset, data parallel, resumable.')
    .option('--context <file>', 'stage context JSON written by the orchestrator (src/graph/context.ts)')
    .option('--data <dir>', 'prepared dataset folder (output of stages/prepare.ts)')
    .option('--recipe <id>', 'recipe id from recipes/index.ts', 'a1')
    .option('--profile <id>', 'scale profile: embedded, tiny or imagenet (src/pipeline/profiles.ts)', 'embedded')
    .option('--out <dir>', 'output folder (model.ckpt, metrics.jsonl, run.json)')
    .option('--work <dir>', 'resumable scratch folder (default: <out>/.work)')
    .option('--devices <n>', 'data-parallel workers (one per core for wasm/cpu)', int('--devices', 1), 1)
    .option('--backend <name>', 'auto, tensorflow, wasm or cpu', 'auto')
    .option('--seed <n>', "override the recipe's seed", int('--seed', 0))
    .option('--loader-workers <n>', 'image decoding threads', int('--loader-workers', 0), 1)
    .option('--decoder <name>', "JPEG decoder for training: 'fast' (libjpeg-turbo where it applies) or 'exact' (sharp, as Pillow)", 'fast')
    .option('--transport <kind>', "data-parallel replicas: 'thread' (wasm/cpu, shared memory) or 'process' (one per GPU); default by backend")
    .parse();
  const o = program.opts<{ context?: string; data?: string; recipe: string; profile: string; out?: string; work?: string; devices: number; backend: string; seed?: number; loaderWorkers: number; transport?: string; decoder: string }>();
  if (o.transport !== undefined && o.transport !== 'thread' && o.transport !== 'process') program.error(`--transport: expected thread or process, got '${o.transport}'`);
  const transport = o.transport as 'thread' | 'process' | undefined;
  if (o.decoder !== 'fast' && o.decoder !== 'exact') program.error(`--decoder: expected fast or exact, got '${o.decoder}'`);
  const decoder = o.decoder as 'fast' | 'exact';

  const { train } = await import('../src/train/loop.ts');
  if (o.context) {
    const ctx = readStageContext(o.context);
    if (!Value.Check(TrainParams, ctx.params)) {
      const e = [...Value.Errors(TrainParams, ctx.params)][0];
      throw new Error(`${o.context}: params${e?.path || '/'}: ${e?.message}`);
    }
    const p = ctx.params;
    const ups = Object.values(ctx.upstream);
    if (ups.length !== 1) throw new Error(`${o.context}: train needs exactly one upstream (the prepared dataset), got ${ups.length}`);
    const devices = p.workers > 0 ? p.workers : Math.max(1, ctx.devices.length);
    console.error(`devices: ${ctx.devices.length ? ctx.devices.join(', ') : 'none handed'} -> ${devices} worker(s)`);
    const r = await train({
      stage: ctx.stage, recipe: p.recipe, profile: p.profile, dataDir: ups[0], outDir: ctx.outDir, workDir: ctx.workDir,
      devices, deviceIds: ctx.devices, backend: p.backend, loaderWorkers: o.loaderWorkers, decoder: p.decoder,
    });
    if (r.interrupted) process.exit(130);
    return;
  }
  if (!o.data || !o.out) program.error('give --data PREPARED_DIR and --out DIR (or --context FILE); see --help');
  const r = await train({
    stage: `train:${o.recipe}`, recipe: getRecipe(o.recipe), profile: getProfile(o.profile), dataDir: o.data!, outDir: o.out!,
    workDir: o.work ?? join(o.out!, '.work'), devices: o.devices, transport, backend: parseBackendChoice(o.backend), seed: o.seed, loaderWorkers: o.loaderWorkers, decoder,
  });
  if (r.interrupted) process.exit(130);
  const last = r.metrics.at(-1);
  if (last) console.log(`final: loss ${last.loss.toFixed(4)}, eval top-1 ${last.evalTop1?.toFixed(2) ?? 'n/a'} %`);
}

main().catch((e: Error) => {
  console.error(`train: ${e.message}`);
  process.exit(1);
});
