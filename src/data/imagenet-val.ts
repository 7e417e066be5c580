// Labels for a flat ImageNet validation folder (val/ILSVRC2012_val_00000001.JPEG ...).
//
// Two ground-truth formats are in circulation:
//  * LOC_val_solution.csv (the Kaggle "ImageNet Object Localization" release): a header line
//    "ImageId,PredictionString", then one row per image whose PredictionString starts with the wnid
//    ("ILSVRC2012_val_00008726,n02119789 255 142 454 329 ...").
//  * ILSVRC2012_validation_ground_truth.txt from the devkit (ILSVRC2012_devkit_t12/data/): line k is
//    the ILSVRC2012_ID (1..1000) of ILSVRC2012_val_<k, 8 digits>.JPEG. Those IDs follow the devkit's
//    own synset order (meta.mat), which is NOT sorted-wnid order, so a synset list is needed too: a
//    text file whose line i holds the wnid of ILSVRC2012_ID i as its first word (docs/data.md says
//    how to export it from meta.mat).
import { existsSync, readFileSync } from 'node:fs';
import { join, dirname } from 'node:path';

export type GroundTruthKind = 'loc-csv' | 'devkit';

export interface ValGroundTruth {
  kind: GroundTruthKind;
  /** The file(s) it came from, for messages and the report. */
  files: string[];
  /** Image id (file name without extension, e.g. "ILSVRC2012_val_00000001") -> wnid. */
  wnidOf: Map<string, string>;
}

const WNID = /^n\d{8}$/;

function readLines(file: string): string[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new Error(`${file}: cannot read (${(e as Error).message})`);
  }
  return text.split(/\r?\n/);
}

/** Parses LOC_val_solution.csv. */
export function parseLocCsv(file: string): ValGroundTruth {
  const lines = readLines(file);
  const header = lines[0]?.trim();
  if (header !== 'ImageId,PredictionString') {
    throw new Error(`${file}:1: expected the header 'ImageId,PredictionString', got '${header ?? ''}'`);
  }
  const wnidOf = new Map<string, string>();
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i].trim();
    if (!line) continue;
    const comma = line.indexOf(',');
    if (comma < 0) throw new Error(`${file}:${i + 1}: no comma in '${line}'`);
    const id = line.slice(0, comma);
    const wnid = line.slice(comma + 1).trim().split(/\s+/)[0];
    if (!WNID.test(wnid)) throw new Error(`${file}:${i + 1}: '${wnid}' is not a wnid (nXXXXXXXX)`);
    if (wnidOf.has(id)) throw new Error(`${file}:${i + 1}: image '${id}' listed twice`);
    wnidOf.set(id, wnid);
  }
  return { kind: 'loc-csv', files: [file], wnidOf };
}

/** Reads a synset list: line i (1-based) holds the wnid of ILSVRC2012_ID i as its first word. */
export function parseSynsetList(file: string): string[] {
  const out: string[] = [];
  const lines = readLines(file);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (!line) continue;
    const wnid = line.split(/\s+/)[0];
    if (!WNID.test(wnid)) throw new Error(`${file}:${i + 1}: '${wnid}' is not a wnid (nXXXXXXXX)`);
    out.push(wnid);
  }
  if (out.length === 0) throw new Error(`${file}: no synsets listed`);
  return out;
}

/** Parses the devkit ground truth with the devkit synset order. */
export function parseDevkitGroundTruth(gtFile: string, synsetFile: string): ValGroundTruth {
  const synsets = parseSynsetList(synsetFile);
  const wnidOf = new Map<string, string>();
  const lines = readLines(gtFile);
  let k = 0;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (!line) continue;
    k++;
    const id = Number(line);
    if (!Number.isInteger(id) || id < 1 || id > synsets.length) {
      throw new Error(`${gtFile}:${i + 1}: '${line}' is not an ILSVRC2012_ID in 1..${synsets.length} (${synsetFile})`);
    }
    wnidOf.set(`ILSVRC2012_val_${String(k).padStart(8, '0')}`, synsets[id - 1]);
  }
  return { kind: 'devkit', files: [gtFile, synsetFile], wnidOf };
}

export interface GroundTruthSearch {
  /** Explicit label file (LOC_val_solution.csv or ILSVRC2012_validation_ground_truth.txt). */
  valLabels?: string;
  /** Explicit devkit synset list (for the devkit ground truth). */
  valSynsets?: string;
}

/** Where the standard files are looked for, relative to the data folder (and its parent). */
export const GT_CANDIDATES = {
  loc: ['LOC_val_solution.csv'],
  devkit: ['ILSVRC2012_validation_ground_truth.txt', 'ILSVRC2012_devkit_t12/data/ILSVRC2012_validation_ground_truth.txt'],
  synsets: ['ILSVRC2012_synsets.txt', 'ILSVRC2012_devkit_t12/data/synsets.txt'],
};

function firstExisting(roots: string[], names: string[]): string | undefined {
  for (const r of roots) for (const n of names) if (existsSync(join(r, n))) return join(r, n);
  return undefined;
}

/** Finds and parses the ground truth for a flat val folder; the error lists what was looked for. */
export function findValGroundTruth(dataDir: string, search: GroundTruthSearch = {}): ValGroundTruth {
  const roots = [dataDir, dirname(dataDir)];
  const labels = search.valLabels;
  if (labels) {
    if (labels.toLowerCase().endsWith('.csv')) return parseLocCsv(labels);
    const syn = search.valSynsets ?? firstExisting([dirname(labels), ...roots], GT_CANDIDATES.synsets);
    if (!syn) throw new Error(`${labels}: devkit ground truth needs the devkit synset list (--val-synsets FILE)`);
    return parseDevkitGroundTruth(labels, syn);
  }
  const loc = firstExisting(roots, GT_CANDIDATES.loc);
  if (loc) return parseLocCsv(loc);
  const gt = firstExisting(roots, GT_CANDIDATES.devkit);
  if (gt) {
    const syn = search.valSynsets ?? firstExisting([dirname(gt), ...roots], GT_CANDIDATES.synsets);
    if (!syn) {
      throw new Error(`${gt}: found the devkit ground truth but no synset list (${GT_CANDIDATES.synsets.join(' or ')}); pass --val-synsets FILE`);
    }
    return parseDevkitGroundTruth(gt, syn);
  }
  throw new Error(
    `${join(dataDir, 'val')}: flat validation folder but no ground truth found; looked for ` +
      `${[...GT_CANDIDATES.loc, ...GT_CANDIDATES.devkit].join(', ')} in ${dataDir} and its parent (or pass --val-labels FILE)`,
  );
}

/** The image id of a val file name: the name without its extension. */
export function imageIdOf(fileName: string): string {
  const dot = fileName.lastIndexOf('.');
  return dot > 0 ? fileName.slice(0, dot) : fileName;
}

/** Where human-readable class names are looked for (Kaggle release: "n01440764 tench, Tinca tinca"). */
export const NAME_FILES = ['LOC_synset_mapping.txt'];

/**
 * Class names for the given wnids from LOC_synset_mapping.txt in the data folder or its parent,
 * or undefined when there is no such file or it misses a class (names are a courtesy, never an error).
 */
export function findClassNames(dataDir: string, wnids: readonly string[]): string[] | undefined {
  const file = firstExisting([dataDir, dirname(dataDir)], NAME_FILES);
  if (!file) return undefined;
  const nameOf = new Map<string, string>();
  for (const line of readLines(file)) {
    const m = /^(n\d{8})\s+(.*)$/.exec(line.trim());
    if (m) nameOf.set(m[1], m[2].trim());
  }
  const names = wnids.map((w) => nameOf.get(w));
  return names.every((n) => n !== undefined) ? (names as string[]) : undefined;
}
