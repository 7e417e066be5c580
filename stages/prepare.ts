// Stage prepare:<dataset>: an ImageNet-layout folder -> indexed shards + classes.json + report.json.
//
//   npx tsx stages/prepare.ts --data DIR --out DIR [--max-side N] [...]   (by hand)
//   npx tsx stages/prepare.ts --context FILE                               (from the orchestrator)
//
// With --context the data folder is ctx.inputs.data (or .images), or else the single upstream
// output (make-dataset:embedded); shards are built in ctx.workDir, so a killed run resumes there.
import { Command, InvalidArgumentError } from 'commander';
import { readStageContext } from '../src/graph/context.ts';
import { prepare, resolvePrepareParams, type PrepareOptions, type PrepareProgress } from '../src/data/prepare.ts';

function int(name: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`${name} must be a positive integer, got '${v}'`);
    return n;
  };
}

/** One progress line at most every 2 s (and for the last shard), on stderr. */
function progressPrinter(): (p: PrepareProgress) => void {
  let last = 0;
  return (p) => {
    const now = performance.now();
    if (now - last < 2000) return;
    last = now;
    process.stderr.write(
      `prepare: ${p.split} shard ${p.shard} ${p.reused ? 'reused' : 'built'}; ${p.filesDone} files this run, ${p.filesPerSecond.toFixed(0)} files/s\n`,
    );
  };
}

function dataDirFromContext(file: string, inputs: Record<string, string>, upstream: Record<string, string>): string {
  if (inputs.data) return inputs.data;
  if (inputs.images) return inputs.images;
  const ups = Object.values(upstream);
  if (ups.length === 1) return ups[0];
  throw new Error(`${file}: no data folder: expected inputs.data (or inputs.images) or exactly one upstream stage, got ${ups.length}`);
}

async function main(): Promise<void> {
  const program = new Command()
    .name('stages/prepare.ts')
    .description('Index an ImageNet-layout folder (train/<wnid>/*, val/ in class folders or flat with ground truth) into tar shards with a binary sample index.')
    .option('--context <file>', 'stage context JSON written by the orchestrator (src/graph/context.ts)')
    .option('--data <dir>', 'ImageNet-layout folder to read')
    .option('--out <dir>', 'output folder for the prepared dataset')
    .option('--work <dir>', 'resumable scratch folder (default: the output folder)')
    .option('--max-side <n>', 're-encode images whose longer side is larger than n', int('--max-side'))
    .option('--exif <mode>', "EXIF orientation: 'ignore' (keep stored pixels, as PIL/timm read them) or 'apply' (rotate upright)", 'ignore')
    .option('--shard-size <n>', 'samples per shard', int('--shard-size'))
    .option('--val-labels <file>', 'LOC_val_solution.csv or ILSVRC2012_validation_ground_truth.txt for a flat val/')
    .option('--val-synsets <file>', 'devkit synset order (line i = wnid of ILSVRC2012_ID i) for the devkit ground truth')
    .option('--concurrency <n>', 'images checked at once', int('--concurrency'))
    .addHelpText('after', '\nOutputs: dataset.json, classes.json, report.json, <split>.idx, shards/<split>-NNNNN.{tar,json}. See docs/data.md.')
    .parse();
  const o = program.opts<{
    context?: string; data?: string; out?: string; work?: string; maxSide?: number; exif: string;
    shardSize?: number; valLabels?: string; valSynsets?: string; concurrency?: number;
  }>();

  let options: PrepareOptions;
  if (o.context) {
    const ctx = readStageContext(o.context);
    const params = resolvePrepareParams((ctx.params ?? {}) as object);
    options = {
      ...params,
      dataDir: dataDirFromContext(o.context, ctx.inputs, ctx.upstream),
      outDir: ctx.outDir,
      workDir: ctx.workDir,
      concurrency: o.concurrency,
    };
  } else {
    if (!o.data || !o.out) program.error('give --data DIR and --out DIR (or --context FILE); see --help');
    if (o.exif !== 'apply' && o.exif !== 'ignore') program.error(`--exif must be 'apply' or 'ignore', got '${o.exif}'`);
    options = {
      dataDir: o.data!,
      outDir: o.out!,
      workDir: o.work,
      maxSide: o.maxSide ?? null,
      exifOrientation: o.exif as 'apply' | 'ignore',
      samplesPerShard: o.shardSize,
      valLabels: o.valLabels,
      valSynsets: o.valSynsets,
      concurrency: o.concurrency,
    };
  }
  const { manifest, report } = await prepare({ ...options, onProgress: progressPrinter() });
  for (const [split, s] of Object.entries(report.splits)) {
    console.log(`${split}: ${manifest.splits[split].count} images (${s.kept} kept, ${s.converted} converted, ${s.skipped} skipped, ${s.ignored} non-image files ignored)`);
  }
  console.log(
    `${manifest.classes} classes; shards built ${report.run.builtShards}, reused ${report.run.reusedShards}; ` +
      `${report.run.filesProcessed} files in ${report.run.seconds.toFixed(1)} s (${report.run.filesPerSecond.toFixed(0)} files/s)`,
  );
  for (const s of report.skipped.slice(0, 20)) console.log(`skipped ${s.split}/${s.path}: ${s.reason}`);
  if (report.skipped.length > 20) console.log(`... ${report.skipped.length - 20} more skipped files in report.json`);
}

main().catch((e: Error) => {
  console.error(`prepare: ${e.message}`);
  process.exit(1);
});
