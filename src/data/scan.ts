// Walking an ImageNet-layout folder without holding the whole file list.
//
// Classes are the sub-folders of train/ sorted by code point, exactly as torchvision's
// ImageFolder orders them (Python's sorted() on str), so label i means the same thing here and in
// any PyTorch tool trained on the same folder. Files are yielded class by class, each class's
// files sorted the same way, so only one class folder listing is in memory at a time (1,300 names
// for ImageNet train) while 1.28 M files stream through.
import { promises as fsp, type Dirent } from 'node:fs';
import { join } from 'node:path';

/** The extensions torchvision's ImageFolder accepts (case-insensitive). */
export const IMAGE_EXTENSIONS = ['.jpg', '.jpeg', '.png', '.ppm', '.bmp', '.pgm', '.tif', '.tiff', '.webp'];

export function isImageName(name: string): boolean {
  const lower = name.toLowerCase();
  return IMAGE_EXTENSIONS.some((e) => lower.endsWith(e));
}

/** Python-compatible ordering of str: by UTF-16 code unit, which equals code point order for BMP names. */
export function byCodePoint(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export interface ScannedFile {
  /** Absolute or data-dir-joined path to read. */
  path: string;
  /** Path relative to the split folder, '/'-separated: the name stored in the shard. */
  rel: string;
  label: number;
}

async function readDirSorted(dir: string): Promise<Dirent[]> {
  let entries: Dirent[];
  try {
    entries = await fsp.readdir(dir, { withFileTypes: true });
  } catch (e) {
    throw new Error(`${dir}: cannot list folder (${(e as Error).message})`);
  }
  return entries.sort((a, b) => byCodePoint(a.name, b.name));
}

/** True for a directory entry, following symbolic links (ImageFolder follows them too). */
async function isDir(dir: string, e: Dirent): Promise<boolean> {
  if (e.isDirectory()) return true;
  if (!e.isSymbolicLink()) return false;
  try {
    return (await fsp.stat(join(dir, e.name))).isDirectory();
  } catch {
    return false;
  }
}

/** Sorted class folder names of a split folder. Hidden folders (".x") are not classes. */
export async function listClassFolders(splitDir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readDirSorted(splitDir)) {
    if (e.name.startsWith('.')) continue;
    if (await isDir(splitDir, e)) out.push(e.name);
  }
  return out;
}

/** Image files directly inside a folder (no recursion), sorted; also counts the non-image files. */
export async function listImageFiles(dir: string): Promise<{ images: string[]; ignored: number }> {
  const images: string[] = [];
  let ignored = 0;
  for (const e of await readDirSorted(dir)) {
    if (e.name.startsWith('.')) continue;
    if (await isDir(dir, e)) continue;
    if (isImageName(e.name)) images.push(e.name);
    else ignored++;
  }
  return { images, ignored };
}

export interface ScanCounters {
  /** Files that are not images by extension (README, .txt, ...): neither kept nor reported as bad. */
  ignored: number;
}

/**
 * Yields every image of a class-folder split in (class, file) order. `classes` is the class map:
 * a folder that is not in it is an error, because its label would be meaningless.
 */
export async function* walkClassFolders(
  splitDir: string,
  classes: readonly string[],
  counters: ScanCounters,
): AsyncGenerator<ScannedFile> {
  const labelOf = new Map(classes.map((w, i) => [w, i]));
  for (const folder of await listClassFolders(splitDir)) {
    const label = labelOf.get(folder);
    if (label === undefined) {
      throw new Error(`${join(splitDir, folder)}: class folder '${folder}' is not among the ${classes.length} training classes`);
    }
    yield* walkTree(join(splitDir, folder), folder, label, counters);
  }
}

/** Depth-first, sorted walk of one class folder (ImageFolder also descends into sub-folders). */
async function* walkTree(dir: string, rel: string, label: number, counters: ScanCounters): AsyncGenerator<ScannedFile> {
  const entries = await readDirSorted(dir);
  for (const e of entries) {
    if (e.name.startsWith('.')) continue;
    if (await isDir(dir, e)) {
      yield* walkTree(join(dir, e.name), `${rel}/${e.name}`, label, counters);
    } else if (isImageName(e.name)) {
      yield { path: join(dir, e.name), rel: `${rel}/${e.name}`, label };
    } else {
      counters.ignored++;
    }
  }
}

/** Groups a stream into arrays of `size` (the last one may be shorter). */
export async function* chunked<T>(items: AsyncIterable<T>, size: number): AsyncGenerator<T[]> {
  let buf: T[] = [];
  for await (const x of items) {
    buf.push(x);
    if (buf.length === size) {
      yield buf;
      buf = [];
    }
  }
  if (buf.length) yield buf;
}
