// What a training run records, and the schemas other stages read it back with.
//
// Two files live in the train stage's output folder:
//   metrics.jsonl  one EpochMetrics object per line, appended at every epoch end
//   run.json       a RunInfo object: how the run was made (backend, devices, versions,
//                  recipe hash, ingredients the trainer could not honour, profile scaling)
// evaluate.ts and compare.ts read both through the readers below, so a hand-edited or
// truncated file is reported with its path and line instead of surfacing as NaN in a chart.
import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { appendFileSync, existsSync, readFileSync, writeFileSync, renameSync } from 'node:fs';

export const EpochMetrics = Type.Object({
  /** 0-based epoch index. */
  epoch: Type.Integer({ minimum: 0 }),
  /** Mean training loss over the epoch's samples (BCE or cross-entropy, as the recipe says). */
  loss: Type.Number(),
  /** Learning rate used during this epoch (the last update's, for per-update schedules). */
  lr: Type.Number(),
  /** Top-1 on the (mixed) training batches against the dominant label, in %; null when not measured. */
  trainTop1: Type.Union([Type.Number(), Type.Null()]),
  /** Top-1 on the validation split at the end of the epoch, in %; null when skipped. */
  evalTop1: Type.Union([Type.Number(), Type.Null()]),
  /** Training throughput over this epoch, images per second (wall clock, all workers). */
  imagesPerSec: Type.Number(),
  /** Seconds since the run started, summed over resumed sessions. */
  elapsed: Type.Number(),
  /** Optimizer updates done so far (after this epoch). */
  updates: Type.Integer({ minimum: 0 }),
  /** Samples seen in this epoch. */
  samples: Type.Integer({ minimum: 0 }),
});
export type EpochMetrics = Static<typeof EpochMetrics>;

export const RunInfo = Type.Object({
  stage: Type.String(),
  recipe: Type.String(),
  recipeHash: Type.String(),
  profile: Type.String(),
  /** How the profile changed the recipe, in words (empty for the unscaled imagenet profile). */
  scaling: Type.Array(Type.String()),
  backend: Type.String(),
  versions: Type.Record(Type.String(), Type.String()),
  devices: Type.Integer({ minimum: 1 }),
  arch: Type.String(),
  trainSize: Type.Integer(),
  epochs: Type.Integer(),
  globalBatch: Type.Integer(),
  microBatch: Type.Integer(),
  lr: Type.Number(),
  /** Recipe fields the trainer could not honour, with the reason (recorded, never silently dropped). */
  notHonoured: Type.Array(Type.Object({ field: Type.String(), reason: Type.String() })),
  datasetClasses: Type.Integer(),
  trainSamples: Type.Integer(),
  seed: Type.Integer(),
  startedAt: Type.String(),
  finishedAt: Type.Union([Type.String(), Type.Null()]),
  /** How many times the run was resumed from a checkpoint. */
  resumes: Type.Integer({ minimum: 0 }),
  /** The LR schedule as planned: (fractional epoch, LR) at up to ~400 evenly spaced updates, every update of the warmup included. */
  lrSchedule: Type.Optional(Type.Array(Type.Object({ epoch: Type.Number(), lr: Type.Number() }))),
  /** JPEG decoders: the one asked for training and evaluation, and what 'fast' really ran on here. */
  decoder: Type.Optional(Type.Object({ train: Type.String(), eval: Type.String(), detail: Type.String() })),
});
export type RunInfo = Static<typeof RunInfo>;

function firstError(schema: Parameters<typeof Value.Errors>[0], v: unknown): string {
  const e = [...Value.Errors(schema, v)][0];
  return e ? `${e.path || '/'}: ${e.message}` : 'invalid';
}

/** Appends one epoch line. */
export function appendEpoch(file: string, m: EpochMetrics): void {
  if (!Value.Check(EpochMetrics, m)) throw new Error(`${file}: refusing to write bad epoch metrics (${firstError(EpochMetrics, m)})`);
  appendFileSync(file, JSON.stringify(m) + '\n');
}

/** Rewrites the whole file (used on resume, to drop lines of epochs that will be redone). */
export function writeEpochs(file: string, rows: readonly EpochMetrics[]): void {
  const tmp = `${file}.tmp`;
  writeFileSync(tmp, rows.map((r) => JSON.stringify(r) + '\n').join(''));
  renameSync(tmp, file);
}

/** Reads metrics.jsonl; a missing file is an empty run, a bad line is an error naming file and line. */
export function readEpochs(file: string): EpochMetrics[] {
  if (!existsSync(file)) return [];
  const rows: EpochMetrics[] = [];
  const lines = readFileSync(file, 'utf8').split('\n');
  lines.forEach((line, i) => {
    if (!line.trim()) return;
    let v: unknown;
    try {
      v = JSON.parse(line);
    } catch {
      throw new Error(`${file}:${i + 1}: not JSON`);
    }
    if (!Value.Check(EpochMetrics, v)) throw new Error(`${file}:${i + 1}: ${firstError(EpochMetrics, v)}`);
    rows.push(v);
  });
  return rows;
}

export function writeRunInfo(file: string, info: RunInfo): void {
  if (!Value.Check(RunInfo, info)) throw new Error(`${file}: refusing to write bad run info (${firstError(RunInfo, info)})`);
  const tmp = `${file}.tmp`;
  writeFileSync(tmp, JSON.stringify(info, null, 2) + '\n');
  renameSync(tmp, file);
}

export function readRunInfo(file: string): RunInfo {
  let v: unknown;
  try {
    v = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new Error(`${file}: cannot read run info (${(e as Error).message})`);
  }
  if (!Value.Check(RunInfo, v)) throw new Error(`${file}: ${firstError(RunInfo, v)}`);
  return v;
}

/** Evaluation result, written by stages/evaluate.ts as metrics.json. */
export const EvalMetrics = Type.Object({
  recipe: Type.String(),
  /** What was scored: 'checkpoint' of a train stage or an imported 'weights' file. */
  source: Type.String(),
  top1: Type.Number(),
  top5: Type.Number(),
  count: Type.Integer(),
  imageSize: Type.Integer(),
  cropPct: Type.Number(),
  interpolation: Type.String(),
  backend: Type.String(),
  perClass: Type.Array(
    Type.Object({ index: Type.Integer(), name: Type.String(), correct: Type.Integer(), total: Type.Integer(), top1: Type.Number() }),
  ),
  seconds: Type.Number(),
});
export type EvalMetrics = Static<typeof EvalMetrics>;

export function readEvalMetrics(file: string): EvalMetrics {
  let v: unknown;
  try {
    v = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new Error(`${file}: cannot read eval metrics (${(e as Error).message})`);
  }
  if (!Value.Check(EvalMetrics, v)) throw new Error(`${file}: ${firstError(EvalMetrics, v)}`);
  return v;
}

/** Top-k hits of a row-major [n, classes] logits array against integer labels. */
export function topkHits(logits: Float32Array, labels: Int32Array, classes: number, k: number): number {
  let hits = 0;
  for (let i = 0; i < labels.length; i++) {
    const row = logits.subarray(i * classes, (i + 1) * classes);
    const own = row[labels[i]];
    // Rank = how many classes score strictly higher; ties count in the sample's favour,
    // as torch.topk's order is unspecified on ties anyway.
    let higher = 0;
    for (let c = 0; c < classes && higher < k; c++) if (row[c] > own) higher++;
    if (higher < k) hits++;
  }
  return hits;
}
