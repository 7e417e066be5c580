// The golden-case file format (see test/goldens/timm/README.md): one JSON object per case,
// tensors as {shape, dtype, layout, data_b64} with little-endian row-major data.
import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { readFileSync } from 'node:fs';

export const TensorJson = Type.Object({
  shape: Type.Array(Type.Integer({ minimum: 0 })),
  dtype: Type.Union([Type.Literal('float32'), Type.Literal('uint8'), Type.Literal('int64')]),
  layout: Type.String(),
  data_b64: Type.String(),
});
export type TensorJson = Static<typeof TensorJson>;

export const Tolerance = Type.Object(
  { atol: Type.Number(), rtol: Type.Number() },
  { additionalProperties: true },
);
export type Tolerance = Static<typeof Tolerance>;

export const GoldenCase = Type.Object({
  op: Type.String(),
  case: Type.String(),
  source: Type.Optional(Type.String()),
  params: Type.Record(Type.String(), Type.Unknown()),
  inputs: Type.Record(Type.String(), Type.Unknown()),
  expected: Type.Record(Type.String(), Type.Unknown()),
  tolerance: Tolerance,
  notes: Type.Optional(Type.String()),
});
export type GoldenCase = Static<typeof GoldenCase>;

/** A decoded tensor. int64 is read as float64 numbers (safe up to 2^53, plenty for indices). */
export interface Tensor {
  shape: number[];
  dtype: TensorJson['dtype'];
  layout: string;
  data: Float32Array | Uint8Array | Float64Array;
}

export function isTensorJson(v: unknown): v is TensorJson {
  return Value.Check(TensorJson, v);
}

export function decodeTensor(t: unknown, what = 'tensor'): Tensor {
  if (!isTensorJson(t)) throw new Error(`${what}: not a tensor object {shape, dtype, layout, data_b64}`);
  const bytes = Buffer.from(t.data_b64, 'base64');
  const n = t.shape.reduce((a, b) => a * b, 1);
  const width = t.dtype === 'uint8' ? 1 : t.dtype === 'float32' ? 4 : 8;
  if (bytes.length !== n * width) {
    throw new Error(`${what}: ${bytes.length} bytes of data for shape [${t.shape}] ${t.dtype} (want ${n * width})`);
  }
  // Copy into an aligned buffer: Buffer slices may sit at odd offsets.
  const ab = new ArrayBuffer(bytes.length);
  new Uint8Array(ab).set(bytes);
  const dv = new DataView(ab);
  let data: Tensor['data'];
  if (t.dtype === 'uint8') data = new Uint8Array(ab);
  else if (t.dtype === 'float32') {
    data = new Float32Array(n);
    for (let i = 0; i < n; i++) data[i] = dv.getFloat32(i * 4, true);
  } else {
    data = new Float64Array(n);
    for (let i = 0; i < n; i++) data[i] = Number(dv.getBigInt64(i * 8, true));
  }
  return { shape: t.shape, dtype: t.dtype, layout: t.layout, data };
}

/** Reads and validates one case file; the error names the file and the problem. */
export function readCase(file: string): GoldenCase {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new Error(`${file}: not readable JSON (${(e as Error).message})`);
  }
  if (!Value.Check(GoldenCase, raw)) {
    const first = [...Value.Errors(GoldenCase, raw)][0];
    throw new Error(`${file}: not a golden case: ${first?.path || '/'} ${first?.message ?? ''}`);
  }
  return raw;
}
