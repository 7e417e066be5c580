// The .safetensors format (what timm and Hugging Face publish):
//   8 bytes   little-endian u64 N, the header length;
//   N bytes   JSON {name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {str: str}},
//             padded with spaces so the data starts 8-byte aligned;
//   the rest  raw little-endian tensor data, offsets relative to the start of this part,
//             contiguous and covering it exactly (the reference loader rejects gaps).
// We read F32/F16/BF16/F64/I64/I32 (half types widened to float32, since some hubs publish
// them) and write F32/I64/I32. Entries are written in the order given, the header as compact
// JSON with __metadata__ last, which reproduces the goldens' files byte for byte.
import { readFileSync, writeFileSync, renameSync } from 'node:fs';

export type SafetensorsDtype = 'F32' | 'F16' | 'BF16' | 'F64' | 'I64' | 'I32';

export interface SafeTensor {
  dtype: SafetensorsDtype;
  shape: number[];
  /** Floats as Float32Array (F64 kept as Float64Array); I64 as BigInt64Array; I32 as Int32Array. */
  data: Float32Array | Float64Array | BigInt64Array | Int32Array;
}

export interface SafetensorsFile {
  /** In header order. */
  tensors: Map<string, SafeTensor>;
  metadata: Record<string, string>;
}

const WIDTH: Record<SafetensorsDtype, number> = { F32: 4, F16: 2, BF16: 2, F64: 8, I64: 8, I32: 4 };

function fail(file: string, msg: string): never {
  throw new Error(`${file}: ${msg}`);
}

/** Parses a safetensors buffer. `file` names the source in every error message. */
export function parseSafetensors(bytes: Uint8Array, file = '<safetensors>'): SafetensorsFile {
  if (bytes.length < 8) fail(file, `too short for a safetensors file (${bytes.length} bytes)`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = dv.getBigUint64(0, true);
  if (n > BigInt(bytes.length - 8)) fail(file, `header length ${n} exceeds the file (${bytes.length} bytes)`);
  const headerLen = Number(n);
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + headerLen)));
  } catch (e) {
    fail(file, `header is not valid UTF-8 JSON (${(e as Error).message})`);
  }
  if (!header || typeof header !== 'object' || Array.isArray(header)) fail(file, 'header is not a JSON object');
  const dataStart = 8 + headerLen;
  const dataLen = bytes.length - dataStart;
  const tensors = new Map<string, SafeTensor>();
  let metadata: Record<string, string> = {};
  const spans: [number, number, string][] = [];
  for (const [name, v] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (!v || typeof v !== 'object' || Object.values(v).some((x) => typeof x !== 'string')) {
        fail(file, '__metadata__ must map strings to strings');
      }
      metadata = { ...(v as Record<string, string>) };
      continue;
    }
    const e = v as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (typeof e?.dtype !== 'string' || !(e.dtype in WIDTH)) fail(file, `tensor '${name}': unsupported dtype ${JSON.stringify(e?.dtype)} (supported: ${Object.keys(WIDTH).join(', ')})`);
    const dtype = e.dtype as SafetensorsDtype;
    if (!Array.isArray(e.shape) || !e.shape.every((d) => Number.isInteger(d) && d >= 0)) fail(file, `tensor '${name}': bad shape ${JSON.stringify(e.shape)}`);
    const off = e.data_offsets;
    if (!Array.isArray(off) || off.length !== 2 || !off.every((d) => Number.isInteger(d) && d >= 0) || off[0] > off[1]) {
      fail(file, `tensor '${name}': bad data_offsets ${JSON.stringify(off)}`);
    }
    const shape = e.shape as number[];
    const [begin, end] = off as [number, number];
    const count = shape.reduce((a, b) => a * b, 1);
    if (end - begin !== count * WIDTH[dtype]) fail(file, `tensor '${name}': ${end - begin} bytes for shape [${shape}] ${dtype} (want ${count * WIDTH[dtype]})`);
    if (end > dataLen) fail(file, `tensor '${name}': data_offsets [${begin}, ${end}] run past the end of the data (${dataLen} bytes); truncated file?`);
    spans.push([begin, end, name]);
    tensors.set(name, { dtype, shape, data: decode(bytes.subarray(dataStart + begin, dataStart + end), dtype, count) });
  }
  spans.sort((a, b) => a[0] - b[0]);
  for (let i = 1; i < spans.length; i++) {
    if (spans[i][0] < spans[i - 1][1]) fail(file, `tensors '${spans[i - 1][2]}' and '${spans[i][2]}' overlap`);
  }
  return { tensors, metadata };
}

function decode(raw: Uint8Array, dtype: SafetensorsDtype, count: number): SafeTensor['data'] {
  // Copy to a fresh aligned buffer first: the data of a tensor may start at any byte offset,
  // and a Node Buffer's .slice() would share (and expose) its whole memory pool.
  const copy = new Uint8Array(raw.length);
  copy.set(raw);
  const ab = copy.buffer;
  const dv = new DataView(ab);
  switch (dtype) {
    case 'F32': {
      const out = new Float32Array(count);
      for (let i = 0; i < count; i++) out[i] = dv.getFloat32(i * 4, true);
      return out;
    }
    case 'F64': {
      const out = new Float64Array(count);
      for (let i = 0; i < count; i++) out[i] = dv.getFloat64(i * 8, true);
      return out;
    }
    case 'I64': {
      const out = new BigInt64Array(count);
      for (let i = 0; i < count; i++) out[i] = dv.getBigInt64(i * 8, true);
      return out;
    }
    case 'I32': {
      const out = new Int32Array(count);
      for (let i = 0; i < count; i++) out[i] = dv.getInt32(i * 4, true);
      return out;
    }
    case 'F16': {
      const out = new Float32Array(count);
      for (let i = 0; i < count; i++) out[i] = halfToFloat(dv.getUint16(i * 2, true));
      return out;
    }
    case 'BF16': {
      // bfloat16 is the top half of a float32.
      const out = new Float32Array(count);
      const u = new Uint32Array(out.buffer);
      for (let i = 0; i < count; i++) u[i] = dv.getUint16(i * 2, true) << 16;
      return out;
    }
  }
}

function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 31) return m ? NaN : s * Infinity;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}

/** Python json.dumps(ensure_ascii=True) escapes non-ASCII; do the same so headers match byte for byte. */
function asciiJson(v: unknown): string {
  return JSON.stringify(v).replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** Serialises tensors (in the given order) and string metadata into one safetensors buffer. */
export function serializeSafetensors(tensors: Iterable<[string, SafeTensor]>, metadata?: Record<string, string>): Uint8Array {
  const header: Record<string, unknown> = {};
  const parts: Uint8Array[] = [];
  let offset = 0;
  for (const [name, t] of tensors) {
    if (name === '__metadata__') throw new Error(`safetensors: '__metadata__' is not a valid tensor name`);
    if (name in header) throw new Error(`safetensors: duplicate tensor name '${name}'`);
    const count = t.shape.reduce((a, b) => a * b, 1);
    if (t.data.length !== count) throw new Error(`safetensors: tensor '${name}' has ${t.data.length} values for shape [${t.shape}]`);
    const bytes = encode(t, name);
    header[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + bytes.length] };
    parts.push(bytes);
    offset += bytes.length;
  }
  if (metadata) {
    for (const [k, v] of Object.entries(metadata)) {
      if (typeof v !== 'string') throw new Error(`safetensors: metadata '${k}' must be a string, got ${typeof v}`);
    }
    header.__metadata__ = metadata;
  }
  let json = asciiJson(header);
  // asciiJson output is pure ASCII, so its length in bytes equals its length in characters.
  json += ' '.repeat((8 - (json.length % 8)) % 8);
  const head = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + head.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(head.length), true);
  out.set(head, 8);
  let p = 8 + head.length;
  for (const b of parts) {
    out.set(b, p);
    p += b.length;
  }
  return out;
}

function encode(t: SafeTensor, name: string): Uint8Array {
  const n = t.data.length;
  const out = new Uint8Array(n * WIDTH[t.dtype]);
  const dv = new DataView(out.buffer);
  switch (t.dtype) {
    case 'F32':
      for (let i = 0; i < n; i++) dv.setFloat32(i * 4, Number(t.data[i]), true);
      return out;
    case 'I64':
      for (let i = 0; i < n; i++) dv.setBigInt64(i * 8, BigInt(t.data[i]), true);
      return out;
    case 'I32':
      for (let i = 0; i < n; i++) dv.setInt32(i * 4, Number(t.data[i]), true);
      return out;
    default:
      throw new Error(`safetensors: writing dtype ${t.dtype} (tensor '${name}') is not supported; use F32, I64 or I32`);
  }
}

export function readSafetensors(path: string): SafetensorsFile {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new Error(`${path}: cannot read (${(e as Error).message})`);
  }
  return parseSafetensors(bytes, path);
}

/** Writes atomically (temp file + rename), so a crash never leaves a truncated checkpoint. */
export function writeSafetensors(path: string, tensors: Iterable<[string, SafeTensor]>, metadata?: Record<string, string>): void {
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, serializeSafetensors(tensors, metadata));
  renameSync(tmp, path);
}
