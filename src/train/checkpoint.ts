// Training checkpoints: one file, written atomically, holding everything a resumed run
// needs to continue exactly: model variables (BN running stats included), optimizer
// moments and step counters, and the position (next epoch, updates done, elapsed time).
//
// Why no RNG state: every random draw comes from a counter-based stream keyed by
// (seed, purpose, epoch, position), so starting again at an epoch boundary replays the
// very same draws without storing anything.
//
// Layout: 8-byte little-endian header length, a JSON header {meta, tensors: {name:
// {shape, offset, length}}}, then the float32 data, each tensor 4-byte aligned. The file
// is written to <file>.tmp, fsynced and renamed over <file>, so a kill -9 at any moment
// leaves either the previous checkpoint or the new one, never a torn file.
import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';

export const CheckpointMeta = Type.Object({
  format: Type.Literal('rsb-checkpoint/1'),
  /** The epoch a resumed run starts with (all earlier epochs are complete). */
  nextEpoch: Type.Integer({ minimum: 0 }),
  /** Optimizer updates done so far. */
  updates: Type.Integer({ minimum: 0 }),
  /** Wall-clock seconds of training done so far, over all sessions. */
  elapsed: Type.Number({ minimum: 0 }),
  /** Identity of the run (recipe hash + profile + seed ...): a checkpoint of another run is never resumed. */
  runKey: Type.String(),
  /** Free-form state of the loop (e.g. the optimizer's step counters). */
  extra: Type.Record(Type.String(), Type.Unknown()),
});
export type CheckpointMeta = Static<typeof CheckpointMeta>;

export interface NamedTensor {
  shape: number[];
  data: Float32Array;
}

export interface Checkpoint {
  meta: CheckpointMeta;
  tensors: Map<string, NamedTensor>;
}

const TensorEntry = Type.Object({
  shape: Type.Array(Type.Integer({ minimum: 0 })),
  offset: Type.Integer({ minimum: 0 }),
  length: Type.Integer({ minimum: 0 }),
});
const Header = Type.Object({ meta: CheckpointMeta, tensors: Type.Record(Type.String(), TensorEntry) });

export function saveCheckpoint(file: string, ckpt: Checkpoint): void {
  if (!Value.Check(CheckpointMeta, ckpt.meta)) {
    const e = [...Value.Errors(CheckpointMeta, ckpt.meta)][0];
    throw new Error(`${file}: bad checkpoint meta at ${e?.path}: ${e?.message}`);
  }
  const entries: Record<string, Static<typeof TensorEntry>> = {};
  let offset = 0;
  for (const [name, t] of ckpt.tensors) {
    const n = t.shape.reduce((a, b) => a * b, 1);
    if (n !== t.data.length) throw new Error(`${file}: tensor ${name} has shape [${t.shape}] but ${t.data.length} values`);
    entries[name] = { shape: t.shape, offset, length: n };
    offset += n * 4;
  }
  let header = Buffer.from(JSON.stringify({ meta: ckpt.meta, tensors: entries }), 'utf8');
  // Pad the header so the data starts 8-byte aligned (lets readers view it as Float32Array in place).
  const pad = (8 - ((8 + header.length) % 8)) % 8;
  if (pad) header = Buffer.concat([header, Buffer.alloc(pad, 0x20)]);
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(header.length));

  const tmp = `${file}.tmp`;
  const fd = openSync(tmp, 'w');
  try {
    writeSync(fd, len);
    writeSync(fd, header);
    for (const t of ckpt.tensors.values()) {
      writeSync(fd, new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
    }
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, file);
}

/** Reads a checkpoint; null when the file does not exist. A damaged file is an error naming it. */
export function loadCheckpoint(file: string): Checkpoint | null {
  if (!existsSync(file)) return null;
  const buf = readFileSync(file);
  if (buf.length < 8) throw new Error(`${file}: truncated checkpoint (${buf.length} bytes)`);
  const hlen = Number(buf.readBigUInt64LE(0));
  if (8 + hlen > buf.length) throw new Error(`${file}: truncated checkpoint header`);
  let header: unknown;
  try {
    header = JSON.parse(buf.subarray(8, 8 + hlen).toString('utf8'));
  } catch {
    throw new Error(`${file}: checkpoint header is not JSON`);
  }
  if (!Value.Check(Header, header)) {
    const e = [...Value.Errors(Header, header)][0];
    throw new Error(`${file}: bad checkpoint header at ${e?.path}: ${e?.message}`);
  }
  const base = 8 + hlen;
  // Copy into an aligned buffer once; Buffer slices from readFileSync may be unaligned.
  const data = new Float32Array(buf.buffer.slice(buf.byteOffset + base, buf.byteOffset + buf.length));
  const tensors = new Map<string, NamedTensor>();
  for (const [name, e] of Object.entries(header.tensors)) {
    if (e.offset / 4 + e.length > data.length) throw new Error(`${file}: tensor ${name} runs past the end of the file`);
    tensors.set(name, { shape: e.shape, data: data.subarray(e.offset / 4, e.offset / 4 + e.length) });
  }
  return { meta: header.meta, tensors };
}
