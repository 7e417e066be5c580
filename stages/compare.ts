// Stage compare: report.md and a self-contained report.html (inline SVG charts) putting our
// runs beside the paper's figures (src/report/paper-results.json, with sources).
//
//   npx tsx stages/compare.ts --run a1=TRAIN_DIR:EVAL_DIR [--run a2=...] --out DIR [--dataset "..."]
//   npx tsx stages/compare.ts --context FILE                                          (orchestrator)
import { Command } from 'commander';
import { Value } from '@sinclair/typebox/value';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readStageContext } from '../src/graph/context.ts';
import { CompareParams } from '../src/pipeline/params.ts';
import { readEpochs, readEvalMetrics, readRunInfo } from '../src/train/metrics.ts';
import { loadPaperResults } from '../src/report/paper.ts';
import { renderReport, type RecipeRun } from '../src/report/render.ts';

function loadRun(recipe: string, trainDir: string | undefined, evalDir: string | undefined): RecipeRun {
  const run: RecipeRun = { recipe, epochs: [], run: null, eval: null };
  if (trainDir) {
    if (!existsSync(join(trainDir, 'run.json'))) throw new Error(`${trainDir}: not a train output (no run.json)`);
    run.run = readRunInfo(join(trainDir, 'run.json'));
    run.epochs = readEpochs(join(trainDir, 'metrics.jsonl'));
  }
  if (evalDir) {
    if (!existsSync(join(evalDir, 'metrics.json'))) throw new Error(`${evalDir}: not an eval output (no metrics.json)`);
    run.eval = readEvalMetrics(join(evalDir, 'metrics.json'));
  }
  return run;
}

/** The newest finishedAt among the runs' run.json (ISO strings sort by time), or 'unknown'. */
function newestFinish(runs: readonly RecipeRun[]): string {
  const times = runs.map((r) => r.run?.finishedAt).filter((t): t is string => typeof t === 'string').sort();
  return times.at(-1) ?? 'unknown';
}

async function main(): Promise<void> {
  const program = new Command()
    .name('stages/compare.ts')
    .description("Write report.md and report.html: our top-1 per recipe beside the paper's, learning curves, LR schedule, and what differs.")
    .option('--context <file>', 'stage context JSON written by the orchestrator (src/graph/context.ts)')
    .option('--run <spec>', 'RECIPE=TRAIN_DIR:EVAL_DIR (repeatable; either dir may be empty)', (v: string, acc: string[]) => [...acc, v], [] as string[])
    .option('--dataset <text>', 'how the report names the dataset', 'unspecified dataset')
    .option('--out <dir>', 'output folder')
    .parse();
  const o = program.opts<{ context?: string; run: string[]; dataset: string; out?: string }>();
  let runs: RecipeRun[];
  let dataset: string;
  let outDir: string;
  if (o.context) {
    const ctx = readStageContext(o.context);
    if (!Value.Check(CompareParams, ctx.params)) {
      const e = [...Value.Errors(CompareParams, ctx.params)][0];
      throw new Error(`${o.context}: params${e?.path || '/'}: ${e?.message}`);
    }
    const p = ctx.params;
    runs = p.recipes.map((id) => {
      const t = ctx.upstream[`train:${id}`], e = ctx.upstream[`eval:${id}`];
      if (!t || !e) throw new Error(`${o.context}: compare needs upstream train:${id} and eval:${id}`);
      return loadRun(id, t, e);
    });
    dataset = p.dataset;
    outDir = ctx.outDir;
  } else {
    if (!o.out || o.run.length === 0) program.error('give --out DIR and at least one --run RECIPE=TRAIN_DIR:EVAL_DIR (or --context FILE); see --help');
    runs = o.run.map((spec) => {
      const m = /^([^=]+)=([^:]*):(.*)$/.exec(spec);
      if (!m) throw new Error(`--run '${spec}': expected RECIPE=TRAIN_DIR:EVAL_DIR`);
      return loadRun(m[1], m[2] || undefined, m[3] || undefined);
    });
    dataset = o.dataset;
    outDir = o.out!;
  }
  const report = renderReport({ runs, paper: loadPaperResults(), dataset, runsFinishedAt: newestFinish(runs) });
  mkdirSync(outDir, { recursive: true });
  writeFileSync(join(outDir, 'report.md'), report.markdown);
  writeFileSync(join(outDir, 'report.html'), report.html);
  writeFileSync(join(outDir, 'top1.svg'), report.charts.top1);
  writeFileSync(join(outDir, 'learning-curves.svg'), report.charts.learningCurves);
  writeFileSync(join(outDir, 'lr-schedule.svg'), report.charts.lr);
  for (const r of runs) {
    console.log(`${r.recipe}: ours top-1 ${r.eval ? r.eval.top1.toFixed(2) + ' %' : 'n/a'}`);
  }
  // Under the pipeline outDir is a temporary folder renamed into the store on success (the
  // pipeline prints the final place), so only the file names are worth printing there.
  const files = 'report.md, report.html, top1.svg, learning-curves.svg, lr-schedule.svg';
  console.log(o.context ? `wrote ${files}` : `wrote ${files} in ${outDir}`);
}

main().catch((e: Error) => {
  console.error(`compare: ${e.message}`);
  process.exit(1);
});
