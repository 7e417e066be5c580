// report.md and report.html from the runs' metrics and the paper's figures.
//
// The report is honest by construction: every figure of ours is printed with the profile,
// dataset, model and backend it came from, and the "what differs" section is built from the
// runs' own metadata (run.json), not written by hand, so it cannot drift from what ran.
import type { EpochMetrics, EvalMetrics, RunInfo } from '../train/metrics.ts';
import type { PaperResults } from './paper.ts';
import { barChart, esc, lineChart, PALETTE, type Bar, type Series } from './svg.ts';

export interface RecipeRun {
  /** Recipe id, e.g. "a1". */
  recipe: string;
  epochs: EpochMetrics[];
  run: RunInfo | null;
  eval: EvalMetrics | null;
}

export interface ReportInput {
  runs: RecipeRun[];
  paper: PaperResults;
  /** Name of the dataset the runs used (e.g. "embedded synthetic, 10 classes" or a folder name). */
  dataset: string;
  /**
   * When the newest reported run finished (its run.json finishedAt). Not the wall clock at
   * render time: the same runs must give a byte-identical report, so that a cached compare
   * stays a hit and a rerun after an unrelated change cuts off early.
   */
  runsFinishedAt: string;
}

export interface Report {
  markdown: string;
  html: string;
  charts: { learningCurves: string; top1: string; lr: string };
}

const pct = (v: number | null | undefined) => (v === null || v === undefined ? 'n/a' : `${v.toFixed(2)} %`);

/** Statements of what differs between our runs and the paper's, derived from run metadata. */
export function differences(input: ReportInput): string[] {
  const out: string[] = [];
  const runs = input.runs.filter((r) => r.run);
  out.push(`Dataset: ours is ${input.dataset}; the paper's is ImageNet-1k (1,281,167 training images, 1000 classes, 50,000 val images). Figures are not comparable in absolute terms unless the dataset is ImageNet and the profile is 'imagenet'.`);
  const profilesUsed = [...new Set(runs.map((r) => r.run!.profile))];
  if (profilesUsed.length) out.push(`Scale profile: ${profilesUsed.join(', ')}.`);
  for (const r of runs) {
    const info = r.run!;
    if (info.scaling.length) out.push(`${r.recipe}: ${info.scaling.join('; ')}.`);
    if (info.notHonoured.length) {
      out.push(`${r.recipe}: not honoured: ${info.notHonoured.map((n) => `${n.field} (${n.reason})`).join('; ')}.`);
    }
  }
  const backends = [...new Set(runs.map((r) => `${r.run!.backend} with ${r.run!.devices} worker(s)`))];
  if (backends.length) out.push(`Compute: TensorFlow.js (${backends.join(', ')}) in float32; the paper used PyTorch with AMP fp16 on 4-8 V100 GPUs.`);
  out.push('Seeds: one run per recipe (the paper discusses seed-to-seed variability; its figures were not retrieved here).');
  return out;
}

export function renderReport(input: ReportInput): Report {
  const { paper } = input;
  const curves: Series[] = [];
  input.runs.forEach((r, i) => {
    const color = PALETTE[i % PALETTE.length];
    curves.push({ name: `${r.recipe} eval top-1`, color, points: r.epochs.filter((e) => e.evalTop1 !== null).map((e) => ({ x: e.epoch + 1, y: e.evalTop1! })) });
    curves.push({ name: `${r.recipe} train top-1`, color, dashed: true, points: r.epochs.filter((e) => e.trainTop1 !== null).map((e) => ({ x: e.epoch + 1, y: e.trainTop1! })) });
  });
  const learningCurves = lineChart(curves, { title: 'Learning curves (ours)', xLabel: 'epoch', yLabel: 'top-1 (%)', yMin: 0, yMax: 100 });
  const lossCurves = lineChart(
    input.runs.map((r, i) => ({ name: `${r.recipe} train loss`, color: PALETTE[i % PALETTE.length], points: r.epochs.map((e) => ({ x: e.epoch + 1, y: e.loss })) })),
    { title: 'Training loss (ours)', xLabel: 'epoch', yLabel: 'loss' },
  );
  // The planned schedule from run.json (per update); older runs without it fall back to the per-epoch LR of metrics.jsonl.
  const lr = lineChart(
    input.runs.map((r, i) => ({
      name: `${r.recipe}`,
      color: PALETTE[i % PALETTE.length],
      points: r.run?.lrSchedule?.length ? r.run.lrSchedule.map((p) => ({ x: p.epoch, y: p.lr })) : r.epochs.map((e) => ({ x: e.epoch, y: e.lr })),
    })),
    { title: 'Learning-rate schedule (as run)', xLabel: 'epoch', yLabel: 'learning rate', logY: true },
  );
  const bars: Bar[] = [];
  for (const r of input.runs) {
    const p = paper.recipes[r.recipe];
    bars.push({ group: r.recipe.toUpperCase(), label: 'ours (this run)', value: r.eval?.top1 ?? null, color: '#1f77b4' });
    if (p) bars.push({ group: r.recipe.toUpperCase(), label: 'paper (ImageNet)', value: p.top1, color: p.confirmed ? '#d62728' : '#f4a3a3', note: p.ref });
  }
  const top1 = barChart(bars, { title: 'Top-1: ours vs the paper', yLabel: 'top-1 (%)' });

  // ---- markdown
  const md: string[] = [];
  md.push('# ResNet strikes back: our runs beside the paper', '');
  md.push(`Runs finished ${input.runsFinishedAt}. Dataset: ${input.dataset}.`, '');
  md.push('## Top-1 per recipe', '');
  md.push('| recipe | ours top-1 | ours top-5 | eval images | test size | paper top-1 (ImageNet) | paper source | timm-measured |');
  md.push('|---|---|---|---|---|---|---|---|');
  for (const r of input.runs) {
    const p = paper.recipes[r.recipe];
    md.push(`| ${r.recipe} | ${pct(r.eval?.top1)} | ${pct(r.eval?.top5)} | ${r.eval?.count ?? 'n/a'} | ${r.eval ? `${r.eval.imageSize} px, crop ${r.eval.cropPct}, ${r.eval.interpolation}` : 'n/a'} | ${p ? `${p.top1}${p.confirmed ? '' : ' (unconfirmed)'}` : 'n/a'} | ${p?.ref ?? ''} | ${p?.timmTop1 ?? 'n/a'} |`);
  }
  md.push('');
  md.push('Earlier ResNet-50 procedures (paper context, ImageNet):', '');
  for (const e of paper.earlier) md.push(`- ${e.label}: ${e.top1}${e.confirmed ? '' : ' (unconfirmed)'}; ${e.ref}`);
  md.push('');
  md.push('## What differs from the paper', '');
  for (const d of differences(input)) md.push(`- ${d}`);
  md.push('');
  md.push('## Per-epoch metrics', '');
  for (const r of input.runs) {
    md.push(`### ${r.recipe}`, '');
    if (r.run) md.push(`Model ${r.run.arch}, train ${r.run.trainSize} px, ${r.run.epochs} epochs, global batch ${r.run.globalBatch} (micro-batch ${r.run.microBatch}), peak LR ${r.run.lr}, backend ${r.run.backend}, ${r.run.devices} worker(s), recipe hash ${r.run.recipeHash.slice(0, 12)}.`, '');
    md.push('| epoch | loss | lr | train top-1 | eval top-1 | images/s | elapsed s |', '|---|---|---|---|---|---|---|');
    for (const e of r.epochs) {
      md.push(`| ${e.epoch} | ${e.loss.toFixed(4)} | ${e.lr.toExponential(3)} | ${pct(e.trainTop1)} | ${pct(e.evalTop1)} | ${e.imagesPerSec.toFixed(1)} | ${e.elapsed.toFixed(1)} |`);
    }
    md.push('');
  }
  md.push('## Sources', '', paper.source, '');
  md.push('Charts: report.html (learning curves, top-1 beside the paper, LR schedule).', '');

  // ---- html
  const h: string[] = [];
  h.push('<!DOCTYPE html>', '<html lang="en">', '<head>', '<meta charset="utf-8">', '<title>ResNet strikes back: our runs beside the paper</title>');
  h.push('<style>body{font-family:sans-serif;max-width:1180px;margin:2em auto;padding:0 1em;color:#222}table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:3px 8px;text-align:left}th{background:#f4f4f4}td.n{text-align:right}.charts{display:flex;flex-wrap:wrap;gap:12px}.note{color:#555;font-size:90%}</style>');
  h.push('</head>', '<body>');
  h.push('<h1>ResNet strikes back: our runs beside the paper</h1>');
  h.push(`<p class="note">Runs finished ${esc(input.runsFinishedAt)}. Dataset: ${esc(input.dataset)}.</p>`);
  h.push('<h2>Top-1 per recipe</h2>', '<table>', '<tr><th>recipe</th><th>ours top-1</th><th>ours top-5</th><th>eval images</th><th>paper top-1 (ImageNet)</th><th>source</th><th>timm-measured (released weights)</th></tr>');
  for (const r of input.runs) {
    const p = paper.recipes[r.recipe];
    h.push(`<tr><td>${esc(r.recipe)}</td><td class="n">${esc(pct(r.eval?.top1))}</td><td class="n">${esc(pct(r.eval?.top5))}</td><td class="n">${r.eval?.count ?? 'n/a'}</td><td class="n">${p ? esc(`${p.top1}${p.confirmed ? '' : ' (unconfirmed)'}`) : 'n/a'}</td><td>${esc(p?.ref ?? '')}</td><td class="n">${p?.timmTop1 ?? 'n/a'}</td></tr>`);
  }
  h.push('</table>');
  h.push('<div class="charts">', top1, learningCurves, lossCurves, lr, '</div>');
  h.push('<h2>What differs from the paper</h2>', '<ul>');
  for (const d of differences(input)) h.push(`<li>${esc(d)}</li>`);
  h.push('</ul>');
  h.push('<h2>Earlier procedures (paper context)</h2>', '<ul>');
  for (const e of paper.earlier) h.push(`<li>${esc(`${e.label}: ${e.top1}${e.confirmed ? '' : ' (unconfirmed)'}; ${e.ref}`)}</li>`);
  h.push('</ul>');
  h.push('<h2>Sources</h2>', `<p class="note">${esc(paper.source)}</p>`);
  h.push('</body>', '</html>', '');

  return { markdown: md.join('\n'), html: h.join('\n'), charts: { learningCurves, top1, lr } };
}
