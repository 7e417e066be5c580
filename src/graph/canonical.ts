// Canonical JSON: the one serialisation that enters hashes.
//
// Object keys are sorted (so declaration order never changes a key), `undefined` members are
// dropped (as JSON.stringify does) and non-finite numbers are refused rather than silently
// turned into null, which would make two different params hash alike.
import { createHash } from 'node:crypto';

export function canonicalJson(value: unknown, path = ''): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'number':
      if (!Number.isFinite(value)) throw new Error(`cannot hash ${value} at ${path || '/'}: not a finite number`);
      return JSON.stringify(value);
    case 'string':
    case 'boolean':
      return JSON.stringify(value);
    case 'object': {
      if (Array.isArray(value)) return `[${value.map((v, i) => canonicalJson(v ?? null, `${path}/${i}`)).join(',')}]`;
      const obj = value as Record<string, unknown>;
      const keys = Object.keys(obj).filter((k) => obj[k] !== undefined).sort();
      return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(obj[k], `${path}/${k}`)}`).join(',')}}`;
    }
    default:
      throw new Error(`cannot hash a ${typeof value} at ${path || '/'}`);
  }
}

export function sha256Hex(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** sha256 of the canonical JSON of a value. */
export function hashValue(value: unknown): string {
  return sha256Hex(canonicalJson(value));
}
