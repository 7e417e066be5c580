// ImageNet-layout folder -> indexed tar shards (format in shard-format.ts, rationale in docs/data.md).
//
// Shard k of a split holds the source files at positions [k*S, (k+1)*S) of the scan order (class
// by class, files sorted), so which files go into a shard is known from the listing alone. That
// is what makes a killed run resumable: on restart, a shard whose small index exists and whose
// recorded input hash matches is reused as is; the others are rebuilt. Each shard is written to a
// temporary name, synced, renamed, and only then gets its index (also renamed into place), so a
// kill at any instant leaves either a finished shard or nothing that counts.
//
// Memory: files stream from the scan one shard at a time; within a shard at most `concurrency`
// images are being checked at once (plus the finished ones waiting for their turn to be
// written, at worst one shard's worth).
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, promises as fsp, readdirSync, readFileSync, renameSync, rmSync, copyFileSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join, dirname } from 'node:path';
import pLimit from 'p-limit';
import sharp from 'sharp';
import { Value } from '@sinclair/typebox/value';
import { Type, type Static } from '@sinclair/typebox';
import { checkImage, type ExifOrientationMode } from './image-check.ts';
import { chunked, listClassFolders, listImageFiles, walkClassFolders, type ScannedFile, type ScanCounters } from './scan.ts';
import { findClassNames, findValGroundTruth, imageIdOf, type ValGroundTruth } from './imagenet-val.ts';
import {
  FORMAT,
  ShardIndex,
  type ClassMap,
  type DatasetManifest,
  type ConvertedFile,
  type SkippedFile,
  type Split,
  type SplitManifest,
  encodeIndex,
  shardFileName,
  shardIndexName,
} from './shard-format.ts';
import { tarHeader, tarPadding, TAR_END } from './tar.ts';

export const PrepareParams = Type.Object({
  /** Re-encode images whose longer side is larger (null: keep every size). */
  maxSide: Type.Union([Type.Integer({ minimum: 16 }), Type.Null()], { default: null }),
  /**
   * 'ignore' (default) keeps the stored pixels and drops the tag: what PIL, and so timm, train
   * and evaluate on (Image.open does not rotate), so published weights see the same pixels.
   * 'apply' rotates EXIF-oriented images upright (re-encoded).
   */
  exifOrientation: Type.Union([Type.Literal('apply'), Type.Literal('ignore')], { default: 'ignore' }),
  /** Samples per shard: 1024 ImageNet JPEGs (~110 kB each) make ~110 MB shards. */
  samplesPerShard: Type.Integer({ minimum: 1, default: 1024 }),
  /** Explicit val label file (LOC_val_solution.csv or ILSVRC2012_validation_ground_truth.txt). */
  valLabels: Type.Optional(Type.String()),
  /** Explicit devkit synset list for the devkit ground truth. */
  valSynsets: Type.Optional(Type.String()),
});
export type PrepareParams = Static<typeof PrepareParams>;

export interface PrepareProgress {
  split: Split;
  shard: number;
  /** True when the shard was found finished from an earlier run and not rebuilt. */
  reused: boolean;
  /** Source files handled so far in this run (all splits; reused shards not counted). */
  filesDone: number;
  /** Source bytes read so far in this run. */
  bytesRead: number;
  elapsedMs: number;
  /** filesDone per second of wall time: the prepare rate. */
  filesPerSecond: number;
}

export interface PrepareOptions extends Partial<PrepareParams> {
  /** The ImageNet-layout folder (train/<wnid>/..., val/...). */
  dataDir: string;
  /** Where the prepared dataset goes. */
  outDir: string;
  /** Resumable scratch; shards are built here and moved to outDir at the end. Default: outDir. */
  workDir?: string;
  /** Images checked at once (sharp decodes on libuv's thread pool). Default: 2 x cores. */
  concurrency?: number;
  /** Which splits to prepare; default: every split folder that exists. */
  splits?: Split[];
  /** Called after every shard: the rate measurement hook (bench/data.ts). */
  onProgress?: (p: PrepareProgress) => void;
}

export const SplitReport = Type.Object({
  files: Type.Integer(),
  kept: Type.Integer(),
  converted: Type.Integer(),
  skipped: Type.Integer(),
  /** Non-image files (by extension) that were not considered. */
  ignored: Type.Integer(),
});

export const PrepareReport = Type.Object({
  format: Type.Literal(FORMAT),
  splits: Type.Record(Type.String(), SplitReport),
  valGroundTruth: Type.Union([Type.Null(), Type.Object({ kind: Type.String(), files: Type.Array(Type.String()) })]),
  skipped: Type.Array(Type.Object({ split: Type.String(), path: Type.String(), reason: Type.String() })),
  converted: Type.Array(Type.Object({ split: Type.String(), path: Type.String(), reason: Type.String() })),
  /**
   * This run's work and timing: returned by prepare() but NOT written to report.json, so equal
   * inputs give a byte-identical output folder (the orchestrator's early cutoff depends on it).
   */
  run: Type.Optional(Type.Object({
    builtShards: Type.Integer(),
    reusedShards: Type.Integer(),
    filesProcessed: Type.Integer(),
    seconds: Type.Number(),
    filesPerSecond: Type.Number(),
  })),
});
export type PrepareReport = Static<typeof PrepareReport>;

export interface PrepareResult {
  manifest: DatasetManifest;
  report: PrepareReport & { run: NonNullable<PrepareReport['run']> };
}

/** How a split is laid out on disk, found before any image is read. */
interface SplitSource {
  split: Split;
  dir: string;
  files: (counters: ScanCounters) => AsyncIterable<ScannedFile>;
}

function sha256(s: string): string {
  return createHash('sha256').update(s).digest('hex');
}

/** Atomic small-file write: temp name, then rename. */
function writeFileAtomic(file: string, data: string | Uint8Array): void {
  const tmp = `${file}.tmp-${process.pid}`;
  writeFileSync(tmp, data);
  renameSync(tmp, file);
}

/** Class map: train's class folders; without train, val's class folders. */
async function buildClassMap(dataDir: string): Promise<string[]> {
  for (const s of ['train', 'val']) {
    const d = join(dataDir, s);
    if (!existsSync(d)) continue;
    const folders = await listClassFolders(d);
    if (folders.length) return folders;
  }
  throw new Error(`${dataDir}: no class folders found in train/ (or val/); expected train/<wnid>/*.JPEG`);
}

async function splitSources(dataDir: string, classes: string[], opts: PrepareOptions, gtOut: { gt: ValGroundTruth | null }): Promise<SplitSource[]> {
  const wanted = opts.splits ?? ['train', 'val'];
  const out: SplitSource[] = [];
  for (const split of wanted) {
    const dir = join(dataDir, split);
    if (!existsSync(dir) || !statSync(dir).isDirectory()) {
      if (opts.splits) throw new Error(`${dir}: split folder missing`);
      continue;
    }
    const folders = await listClassFolders(dir);
    if (folders.length > 0) {
      out.push({ split, dir, files: (c) => walkClassFolders(dir, classes, c) });
      continue;
    }
    if (split === 'train') throw new Error(`${dir}: no class folders (train must be train/<wnid>/*)`);
    // Flat validation folder: labels come from a ground-truth file.
    const gt = findValGroundTruth(dataDir, { valLabels: opts.valLabels, valSynsets: opts.valSynsets });
    gtOut.gt = gt;
    const labelOf = new Map(classes.map((w, i) => [w, i]));
    out.push({
      split,
      dir,
      files: (counters) =>
        (async function* () {
          const { images, ignored } = await listImageFiles(dir);
          counters.ignored += ignored;
          for (const name of images) {
            const wnid = gt.wnidOf.get(imageIdOf(name));
            // Unlabelled files are still yielded (label -1) so that they appear in the report.
            const label = wnid === undefined ? -1 : (labelOf.get(wnid) ?? -2);
            yield { path: join(dir, name), rel: name, label };
          }
        })(),
    });
  }
  if (out.length === 0) throw new Error(`${dataDir}: neither train/ nor val/ found`);
  return out;
}

interface ShardBuildStats {
  filesDone: number;
  bytesRead: number;
}

/** Builds one shard (tar + its index) atomically. */
async function buildShard(
  shardsRoot: string,
  split: Split,
  shard: number,
  files: ScannedFile[],
  inputHash: string,
  params: PrepareParams,
  limit: ReturnType<typeof pLimit>,
  stats: ShardBuildStats,
): Promise<ShardIndex> {
  const tarFile = join(shardsRoot, shardFileName(split, shard));
  const tmp = `${tarFile}.tmp-${process.pid}`;
  const fh = await fsp.open(tmp, 'w');
  const entries: ShardIndex['entries'] = [];
  const skipped: SkippedFile[] = [];
  const converted: ConvertedFile[] = [];
  let pos = 0;
  try {
    const tasks = files.map((f) =>
      limit(async () => {
        if (f.label === -1) return { kind: 'skip' as const, reason: 'no ground-truth label for this file' };
        if (f.label === -2) return { kind: 'skip' as const, reason: 'ground-truth class is not among the training classes' };
        let bytes: Uint8Array;
        try {
          bytes = await fsp.readFile(f.path);
        } catch (e) {
          return { kind: 'skip' as const, reason: `cannot read: ${(e as Error).message}` };
        }
        stats.bytesRead += bytes.length;
        return checkImage(bytes, params);
      }),
    );
    // Await in order so the tar is written in scan order while later files are already being checked.
    for (let i = 0; i < files.length; i++) {
      const f = files[i];
      const d = await tasks[i];
      stats.filesDone++;
      if (d.kind === 'skip') {
        skipped.push({ path: f.rel, reason: d.reason });
        continue;
      }
      if (d.kind === 'convert') converted.push({ path: f.rel, reason: d.reason });
      const header = tarHeader(f.rel, d.bytes.length, `${split}-${shard}-${i}.jpg`);
      await fh.write(header, 0, header.length, pos);
      pos += header.length;
      entries.push({ name: f.rel, label: f.label, offset: pos, length: d.bytes.length });
      await fh.write(d.bytes, 0, d.bytes.length, pos);
      pos += d.bytes.length + tarPadding(d.bytes.length);
    }
    await fh.write(TAR_END, 0, TAR_END.length, pos);
    pos += TAR_END.length;
    await fh.truncate(pos);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await fsp.rename(tmp, tarFile);
  const index: ShardIndex = { format: FORMAT, split, shard, inputHash, tarBytes: pos, entries, skipped, converted };
  writeFileAtomic(join(shardsRoot, shardIndexName(split, shard)), JSON.stringify(index));
  return index;
}

/** A finished shard from an earlier run, or null when it must be (re)built. */
function finishedShard(shardsRoot: string, split: Split, shard: number, inputHash: string): ShardIndex | null {
  const idxFile = join(shardsRoot, shardIndexName(split, shard));
  const tarFile = join(shardsRoot, shardFileName(split, shard));
  if (!existsSync(idxFile) || !existsSync(tarFile)) return null;
  try {
    const raw = JSON.parse(readFileSync(idxFile, 'utf8'));
    if (!Value.Check(ShardIndex, raw)) return null;
    if (raw.inputHash !== inputHash) return null;
    if (statSync(tarFile).size !== raw.tarBytes) return null;
    return raw;
  } catch {
    return null;
  }
}

/** Half-written files of a killed run (their names end in .tmp-<pid>); finished shards are kept. */
function removeStaleTemps(dir: string): void {
  for (const name of readdirSync(dir)) if (/\.tmp-\d+$/.test(name)) rmSync(join(dir, name), { force: true });
}

function moveFile(from: string, to: string): void {
  if (from === to) return;
  mkdirSync(dirname(to), { recursive: true });
  try {
    renameSync(from, to);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EXDEV') throw e;
    copyFileSync(from, to);
    rmSync(from);
  }
}

/** Resolves defaults and validates the parameters; errors name the bad field. */
export function resolvePrepareParams(p: Partial<PrepareParams>): PrepareParams {
  const full = Value.Default(PrepareParams, Value.Clone(p)) as unknown;
  // Drop undefined optionals, which Value.Check rejects under exactOptionalPropertyTypes-like rules.
  const clean = Object.fromEntries(Object.entries(full as object).filter(([, v]) => v !== undefined));
  if (!Value.Check(PrepareParams, clean)) {
    const first = [...Value.Errors(PrepareParams, clean)][0];
    throw new Error(`prepare parameters: ${first?.path || '/'}: ${first?.message}`);
  }
  return clean as PrepareParams;
}

/** Prepares a dataset folder. Resumable: rerunning after a kill reuses every finished shard. */
export async function prepare(opts: PrepareOptions): Promise<PrepareResult> {
  const params = resolvePrepareParams({
    maxSide: opts.maxSide,
    exifOrientation: opts.exifOrientation,
    samplesPerShard: opts.samplesPerShard,
    valLabels: opts.valLabels,
    valSynsets: opts.valSynsets,
  });
  if (!existsSync(opts.dataDir)) throw new Error(`${opts.dataDir}: data folder does not exist`);
  const work = opts.workDir ?? opts.outDir;
  mkdirSync(join(work, 'shards'), { recursive: true });
  removeStaleTemps(join(work, 'shards'));
  mkdirSync(opts.outDir, { recursive: true });
  // Bounded memory: libvips' operation cache would otherwise keep recent images alive.
  sharp.cache(false);
  const limit = pLimit(Math.max(1, opts.concurrency ?? 2 * availableParallelism()));

  const classes = await buildClassMap(opts.dataDir);
  const gtHolder: { gt: ValGroundTruth | null } = { gt: null };
  const sources = await splitSources(opts.dataDir, classes, opts, gtHolder);

  const t0 = performance.now();
  const stats: ShardBuildStats = { filesDone: 0, bytesRead: 0 };
  let built = 0;
  let reused = 0;
  const optionKey = JSON.stringify({ format: FORMAT, maxSide: params.maxSide, exif: params.exifOrientation, classes });
  const splitShards = new Map<Split, { count: number; ignored: number; files: number }>();

  for (const src of sources) {
    const counters: ScanCounters = { ignored: 0 };
    let shard = 0;
    let files = 0;
    for await (const chunk of chunked(src.files(counters), params.samplesPerShard)) {
      files += chunk.length;
      const inputHash = sha256(optionKey + '\n' + chunk.map((f) => `${f.rel}\t${f.label}`).join('\n'));
      let isReused = true;
      if (!finishedShard(work, src.split, shard, inputHash)) {
        await buildShard(work, src.split, shard, chunk, inputHash, params, limit, stats);
        isReused = false;
        built++;
      } else reused++;
      const elapsedMs = performance.now() - t0;
      opts.onProgress?.({
        split: src.split,
        shard,
        reused: isReused,
        filesDone: stats.filesDone,
        bytesRead: stats.bytesRead,
        elapsedMs,
        filesPerSecond: elapsedMs > 0 ? (stats.filesDone * 1000) / elapsedMs : 0,
      });
      shard++;
    }
    splitShards.set(src.split, { count: shard, ignored: counters.ignored, files });
  }
  const seconds = (performance.now() - t0) / 1000;

  // Assemble the final indexes from the shard indexes, then move the shards into place.
  const manifest: DatasetManifest = {
    format: FORMAT,
    classes: classes.length,
    splits: {},
    options: { maxSide: params.maxSide, exifOrientation: params.exifOrientation },
  };
  const report: PrepareResult['report'] = {
    format: FORMAT,
    splits: {},
    valGroundTruth: gtHolder.gt ? { kind: gtHolder.gt.kind, files: gtHolder.gt.files } : null,
    skipped: [],
    converted: [],
    run: {
      builtShards: built,
      reusedShards: reused,
      filesProcessed: stats.filesDone,
      seconds,
      filesPerSecond: seconds > 0 ? stats.filesDone / seconds : 0,
    },
  };
  for (const [split, info] of splitShards) {
    const offsets: number[] = [];
    const lengths: number[] = [];
    const shards: number[] = [];
    const labels: number[] = [];
    const perClass = new Array<number>(classes.length).fill(0);
    const shardList: SplitManifest['shards'] = [];
    let convertedCount = 0;
    let skippedCount = 0;
    for (let k = 0; k < info.count; k++) {
      const idxFile = join(work, shardIndexName(split, k));
      const idx = JSON.parse(readFileSync(idxFile, 'utf8')) as ShardIndex;
      for (const e of idx.entries) {
        offsets.push(e.offset);
        lengths.push(e.length);
        shards.push(k);
        labels.push(e.label);
        perClass[e.label]++;
      }
      for (const s of idx.skipped) report.skipped.push({ split, ...s });
      for (const c of idx.converted) report.converted.push({ split, ...c });
      convertedCount += idx.converted.length;
      skippedCount += idx.skipped.length;
      shardList.push({ file: shardFileName(split, k), count: idx.entries.length, bytes: idx.tarBytes });
    }
    const indexName = `${split}.idx`;
    writeFileAtomic(
      join(opts.outDir, indexName),
      encodeIndex({
        offsets: Float64Array.from(offsets),
        lengths: Uint32Array.from(lengths),
        shards: Uint32Array.from(shards),
        labels: Int32Array.from(labels),
      }),
    );
    manifest.splits[split] = { count: labels.length, index: indexName, shards: shardList, perClass };
    report.splits[split] = {
      files: info.files,
      kept: labels.length - convertedCount,
      converted: convertedCount,
      skipped: skippedCount,
      ignored: info.ignored,
    };
    for (let k = 0; k < info.count; k++) {
      moveFile(join(work, shardFileName(split, k)), join(opts.outDir, shardFileName(split, k)));
      moveFile(join(work, shardIndexName(split, k)), join(opts.outDir, shardIndexName(split, k)));
    }
  }
  const names = findClassNames(opts.dataDir, classes);
  const classMap: ClassMap = names ? { wnids: classes, names } : { wnids: classes };
  writeFileAtomic(join(opts.outDir, 'classes.json'), JSON.stringify(classMap, null, 1));
  const { run: _run, ...onDisk } = report;
  writeFileAtomic(join(opts.outDir, 'report.json'), JSON.stringify(onDisk, null, 1));
  // dataset.json last: its presence marks a complete prepared dataset.
  writeFileAtomic(join(opts.outDir, 'dataset.json'), JSON.stringify(manifest, null, 1));
  return { manifest, report };
}
