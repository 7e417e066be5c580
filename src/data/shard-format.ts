// The on-disk shard format (rationale in docs/data.md).
//
// A prepared dataset is a folder:
//   dataset.json            manifest (DatasetManifest): format, class count, per-split counts and shard list
//   classes.json            ClassMap: wnids in label order (sorted, as torchvision's ImageFolder)
//   report.json             what was skipped or converted, and why (PrepareReport, see prepare.ts)
//   <split>.idx             binary sample index: one fixed-size record per sample, in sample order
//   shards/<split>-NNNNN.tar   plain ustar archives of the stored JPEG files
//   shards/<split>-NNNNN.json  the shard's own small index (ShardIndex); written last = "shard done"
//
// Tar is used because any tool can list or unpack a shard (tar -tf), appending is streaming, and
// the 512-byte header costs < 1 % of a typical ImageNet JPEG (~110 kB). Random access does not
// parse tar headers at all: the .idx file holds each member's data offset and length.
import { Type, type Static } from '@sinclair/typebox';

export const FORMAT = 'rsb-shards/1';

/** Names of the splits a dataset may hold. */
export const Split = Type.Union([Type.Literal('train'), Type.Literal('val')]);
export type Split = Static<typeof Split>;

export const ShardEntry = Type.Object({
  /** Path of the source file relative to the split folder (e.g. "n01440764/n01440764_18.JPEG"). */
  name: Type.String(),
  label: Type.Integer({ minimum: 0 }),
  /** Byte offset of the file's data inside the tar (after its header). */
  offset: Type.Integer({ minimum: 0 }),
  length: Type.Integer({ minimum: 1 }),
});
export type ShardEntry = Static<typeof ShardEntry>;

export const SkippedFile = Type.Object({ path: Type.String(), reason: Type.String() });
export type SkippedFile = Static<typeof SkippedFile>;

export const ConvertedFile = Type.Object({ path: Type.String(), reason: Type.String() });
export type ConvertedFile = Static<typeof ConvertedFile>;

/** One shard's own index: published after its tar, so its presence means the shard is complete. */
export const ShardIndex = Type.Object({
  format: Type.Literal(FORMAT),
  split: Split,
  shard: Type.Integer({ minimum: 0 }),
  /** sha256 over the shard's input list and the conversion options: a changed input means a redo. */
  inputHash: Type.String(),
  tarBytes: Type.Integer({ minimum: 0 }),
  entries: Type.Array(ShardEntry),
  skipped: Type.Array(SkippedFile),
  converted: Type.Array(ConvertedFile),
});
export type ShardIndex = Static<typeof ShardIndex>;

export const ClassMap = Type.Object({
  /** wnid of label i at position i. */
  wnids: Type.Array(Type.String()),
  /** Human-readable names where the dataset folder provides them (LOC_synset_mapping.txt / words). */
  names: Type.Optional(Type.Array(Type.String())),
});
export type ClassMap = Static<typeof ClassMap>;

export const SplitManifest = Type.Object({
  count: Type.Integer({ minimum: 0 }),
  index: Type.String(),
  shards: Type.Array(Type.Object({ file: Type.String(), count: Type.Integer(), bytes: Type.Integer() })),
  /** Images per class, label order. */
  perClass: Type.Array(Type.Integer({ minimum: 0 })),
});
export type SplitManifest = Static<typeof SplitManifest>;

export const DatasetManifest = Type.Object({
  format: Type.Literal(FORMAT),
  classes: Type.Integer({ minimum: 1 }),
  splits: Type.Record(Type.String(), SplitManifest),
  options: Type.Object({ maxSide: Type.Union([Type.Integer(), Type.Null()]), exifOrientation: Type.String() }),
});
export type DatasetManifest = Static<typeof DatasetManifest>;

// ---- binary sample index -------------------------------------------------------------------
// Header: 8-byte magic, u32 count, u32 record size. Record (little-endian, 24 bytes):
// f64 data offset in the shard, u32 length, u32 shard number, i32 label, u32 reserved.
// Offsets are f64 so shards beyond 4 GiB still index exactly (integers < 2^53).
export const INDEX_MAGIC = 'RSBIDX01';
export const INDEX_HEADER_BYTES = 16;
export const INDEX_RECORD_BYTES = 24;

export interface IndexRecords {
  offsets: Float64Array;
  lengths: Uint32Array;
  shards: Uint32Array;
  labels: Int32Array;
}

export function encodeIndex(rec: IndexRecords): Uint8Array {
  const n = rec.labels.length;
  const buf = new Uint8Array(INDEX_HEADER_BYTES + n * INDEX_RECORD_BYTES);
  const dv = new DataView(buf.buffer);
  for (let i = 0; i < 8; i++) buf[i] = INDEX_MAGIC.charCodeAt(i);
  dv.setUint32(8, n, true);
  dv.setUint32(12, INDEX_RECORD_BYTES, true);
  for (let i = 0; i < n; i++) {
    const o = INDEX_HEADER_BYTES + i * INDEX_RECORD_BYTES;
    dv.setFloat64(o, rec.offsets[i], true);
    dv.setUint32(o + 8, rec.lengths[i], true);
    dv.setUint32(o + 12, rec.shards[i], true);
    dv.setInt32(o + 16, rec.labels[i], true);
  }
  return buf;
}

/** Decodes a .idx file; `file` only names it in errors. */
export function decodeIndex(buf: Uint8Array, file: string): IndexRecords {
  if (buf.length < INDEX_HEADER_BYTES) throw new Error(`${file}: sample index is too short (${buf.length} bytes)`);
  const magic = String.fromCharCode(...buf.subarray(0, 8));
  if (magic !== INDEX_MAGIC) throw new Error(`${file}: not a sample index (magic '${magic}', want '${INDEX_MAGIC}')`);
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const n = dv.getUint32(8, true);
  const size = dv.getUint32(12, true);
  if (size !== INDEX_RECORD_BYTES) throw new Error(`${file}: record size ${size}, this reader knows ${INDEX_RECORD_BYTES}`);
  if (buf.length !== INDEX_HEADER_BYTES + n * size) {
    throw new Error(`${file}: ${buf.length} bytes but header says ${n} records (truncated or corrupt)`);
  }
  const rec: IndexRecords = {
    offsets: new Float64Array(n),
    lengths: new Uint32Array(n),
    shards: new Uint32Array(n),
    labels: new Int32Array(n),
  };
  for (let i = 0; i < n; i++) {
    const o = INDEX_HEADER_BYTES + i * size;
    rec.offsets[i] = dv.getFloat64(o, true);
    rec.lengths[i] = dv.getUint32(o + 8, true);
    rec.shards[i] = dv.getUint32(o + 12, true);
    rec.labels[i] = dv.getInt32(o + 16, true);
  }
  return rec;
}

export function shardFileName(split: Split, shard: number): string {
  return `shards/${split}-${String(shard).padStart(5, '0')}.tar`;
}
export function shardIndexName(split: Split, shard: number): string {
  return `shards/${split}-${String(shard).padStart(5, '0')}.json`;
}
