// Random access to a prepared dataset (the output of prepare.ts).
//
// Opening reads dataset.json, classes.json and the split's binary index; reading sample i is one
// positioned read of the stored JPEG from its shard (pread on a file handle opened on first use).
// Each worker thread opens its own ShardReader: handles are per thread, the OS page cache is shared,
// and nothing in here holds state that another reader could disturb.
import { readFileSync, existsSync, promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { Value } from '@sinclair/typebox/value';
import type { TSchema, Static } from '@sinclair/typebox';
import {
  ClassMap,
  DatasetManifest,
  decodeIndex,
  type IndexRecords,
  type Split,
  shardFileName,
} from './shard-format.ts';

export interface Sample {
  /** The stored file: always a baseline/progressive 8-bit RGB JPEG, upright (see docs/data.md). */
  bytes: Uint8Array;
  label: number;
}

export interface ShardReader {
  readonly dir: string;
  readonly split: Split;
  /** Number of samples in this split. */
  readonly count: number;
  /** Label of every sample, in sample order. */
  readonly labels: Int32Array;
  /** wnid of each label. */
  readonly classes: string[];
  readonly manifest: DatasetManifest;
  /** The stored bytes and label of sample i (0 <= i < count). */
  read(i: number): Promise<Sample>;
  /** Closes the shard file handles; the reader must not be used afterwards. */
  close(): Promise<void>;
}

/** Reads and validates a JSON file against a typebox schema; errors name the file and the field. */
export function readJsonFile<S extends TSchema>(file: string, schema: S): Static<S> {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new Error(`${file}: cannot read JSON (${(e as Error).message})`);
  }
  if (!Value.Check(schema, raw)) {
    const first = [...Value.Errors(schema, raw)][0];
    throw new Error(`${file}: invalid at ${first?.path || '/'}: ${first?.message}`);
  }
  return raw as Static<S>;
}

/** Opens one split of a prepared dataset folder. */
export function openShards(dir: string, split: Split): ShardReader {
  const manifestFile = join(dir, 'dataset.json');
  if (!existsSync(manifestFile)) {
    throw new Error(`${dir}: not a prepared dataset (no dataset.json); run stages/prepare.ts first`);
  }
  const manifest = readJsonFile(manifestFile, DatasetManifest);
  const classMap = readJsonFile(join(dir, 'classes.json'), ClassMap);
  const sm = manifest.splits[split];
  if (!sm) throw new Error(`${manifestFile}: no split '${split}' (has ${Object.keys(manifest.splits).join(', ') || 'none'})`);
  const indexFile = join(dir, sm.index);
  let idx: IndexRecords;
  try {
    idx = decodeIndex(readFileSync(indexFile), indexFile);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new Error(`${indexFile}: sample index missing`);
    throw e;
  }
  if (idx.labels.length !== sm.count) {
    throw new Error(`${indexFile}: ${idx.labels.length} samples but dataset.json says ${sm.count}`);
  }
  for (let i = 0; i < idx.labels.length; i++) {
    const l = idx.labels[i];
    if (l < 0 || l >= classMap.wnids.length) throw new Error(`${indexFile}: sample ${i} has label ${l}, outside 0..${classMap.wnids.length - 1}`);
  }

  const handles = new Map<number, Promise<fsp.FileHandle>>();
  let closed = false;
  const handle = (shard: number): Promise<fsp.FileHandle> => {
    if (closed) return Promise.reject(new Error(`${dir} (${split}): shard reader used after close()`));
    let h = handles.get(shard);
    if (!h) {
      const file = join(dir, shardFileName(split, shard));
      h = fsp.open(file, 'r').catch((e: Error) => {
        handles.delete(shard);
        throw new Error(`${file}: cannot open shard (${e.message})`);
      });
      handles.set(shard, h);
    }
    return h;
  };

  return {
    dir,
    split,
    count: sm.count,
    labels: idx.labels,
    classes: classMap.wnids,
    manifest,
    async read(i: number): Promise<Sample> {
      if (!Number.isInteger(i) || i < 0 || i >= sm.count) {
        throw new RangeError(`${dir} (${split}): sample ${i} out of range 0..${sm.count - 1}`);
      }
      const shard = idx.shards[i];
      const length = idx.lengths[i];
      const fh = await handle(shard);
      const bytes = new Uint8Array(length);
      const { bytesRead } = await fh.read(bytes, 0, length, idx.offsets[i]);
      if (bytesRead !== length) {
        throw new Error(`${join(dir, shardFileName(split, shard))}: sample ${i} truncated (${bytesRead} of ${length} bytes)`);
      }
      return { bytes, label: idx.labels[i] };
    },
    async close(): Promise<void> {
      closed = true;
      const all = [...handles.values()];
      handles.clear();
      await Promise.all(all.map((p) => p.then((h) => h.close()).catch(() => undefined)));
    },
  };
}
