// Stage make-dataset:embedded: writes the synthetic ImageNet-layout dataset (src/data/synthetic.ts).
//
//   npx tsx stages/make-dataset.ts --out DIR [--classes 10 --train-per-class 80 ...]   (by hand)
//   npx tsx stages/make-dataset.ts --context FILE                                    (orchestrator)
import { Command, InvalidArgumentError } from 'commander';
import { readStageContext } from '../src/graph/context.ts';
import { generateSyntheticDataset, resolveSyntheticParams, type SyntheticParams } from '../src/data/synthetic.ts';

function int(name: string, min = 0) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`${name} must be an integer >= ${min}, got '${v}'`);
    return n;
  };
}

async function main(): Promise<void> {
  const program = new Command()
    .name('stages/make-dataset.ts')
    .description('Generate the embedded synthetic dataset: a deterministic ImageNet-layout folder of real JPEG files.')
    .option('--context <file>', 'stage context JSON written by the orchestrator (src/graph/context.ts)')
    .option('--out <dir>', 'folder to write train/ and val/ into')
    .option('--classes <n>', 'number of classes', int('--classes', 2))
    .option('--train-per-class <n>', 'training images per class', int('--train-per-class', 1))
    .option('--val-per-class <n>', 'validation images per class', int('--val-per-class', 1))
    .option('--seed <n>', 'seed of every drawing', int('--seed'))
    .option('--min-side <n>', 'smallest longer side in pixels', int('--min-side', 32))
    .option('--max-side <n>', 'largest longer side in pixels', int('--max-side', 32))
    .option('--val-layout <layout>', "'folders' (val/<wnid>/) or 'flat' (val/ + ground-truth files)")
    .parse();
  const o = program.opts<Record<string, string | number | undefined>>();
  let out: string;
  let params: SyntheticParams;
  if (o.context) {
    const ctx = readStageContext(String(o.context));
    params = resolveSyntheticParams((ctx.params ?? {}) as Partial<SyntheticParams>);
    out = ctx.outDir;
  } else {
    if (!o.out) program.error('give --out DIR (or --context FILE); see --help');
    out = String(o.out);
    params = resolveSyntheticParams({
      classes: o.classes as number | undefined,
      trainPerClass: o.trainPerClass as number | undefined,
      valPerClass: o.valPerClass as number | undefined,
      seed: o.seed as number | undefined,
      minSide: o.minSide as number | undefined,
      maxSide: o.maxSide as number | undefined,
      valLayout: o.valLayout as SyntheticParams['valLayout'] | undefined,
    });
  }
  const r = await generateSyntheticDataset(out, params);
  console.log(`wrote ${r.trainFiles} train and ${r.valFiles} val JPEGs of ${r.wnids.length} classes in ${r.seconds.toFixed(1)} s`);
}

main().catch((e: Error) => {
  console.error(`make-dataset: ${e.message}`);
  process.exit(1);
});
