// Minimal ustar writing: enough to store regular files so that `tar -tf` / `tar -xf` read a shard.
// Headers carry mtime 0, uid/gid 0 and mode 0644 so equal inputs give byte-identical shards.

const BLOCK = 512;

function writeString(h: Uint8Array, offset: number, len: number, s: string): void {
  const bytes = new TextEncoder().encode(s);
  if (bytes.length > len) throw new Error(`tar: field too long (${s})`);
  h.set(bytes, offset);
}

function writeOctal(h: Uint8Array, offset: number, len: number, value: number): void {
  // len-1 octal digits followed by NUL, as POSIX asks.
  const s = value.toString(8).padStart(len - 1, '0');
  if (s.length > len - 1) throw new Error(`tar: value ${value} does not fit a ${len}-byte field`);
  writeString(h, offset, len, s);
}

/** Splits a path into ustar's (prefix, name); falls back to a short name when it cannot fit. */
function splitName(path: string, fallback: string): [string, string] {
  const enc = new TextEncoder();
  if (enc.encode(path).length <= 100) return ['', path];
  const cut = path.lastIndexOf('/', path.length - 1);
  if (cut > 0) {
    const prefix = path.slice(0, cut);
    const name = path.slice(cut + 1);
    if (enc.encode(prefix).length <= 155 && enc.encode(name).length <= 100) return [prefix, name];
  }
  return ['', fallback];
}

/** The 512-byte header for a regular file of `size` bytes. `fallbackName` is used if `name` cannot fit. */
export function tarHeader(name: string, size: number, fallbackName: string): Uint8Array {
  const h = new Uint8Array(BLOCK);
  const [prefix, short] = splitName(name, fallbackName);
  writeString(h, 0, 100, short);
  writeOctal(h, 100, 8, 0o644);
  writeOctal(h, 108, 8, 0);
  writeOctal(h, 116, 8, 0);
  writeOctal(h, 124, 12, size);
  writeOctal(h, 136, 12, 0);
  h.fill(0x20, 148, 156); // checksum is computed with its own field as spaces
  h[156] = 0x30; // '0' regular file
  writeString(h, 257, 6, 'ustar');
  writeString(h, 263, 2, '00');
  writeString(h, 345, 155, prefix);
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += h[i];
  writeString(h, 148, 7, sum.toString(8).padStart(6, '0') + '\0');
  return h;
}

/** Zero bytes needed after `size` bytes of data to reach the next block. */
export function tarPadding(size: number): number {
  return (BLOCK - (size % BLOCK)) % BLOCK;
}

/** Two zero blocks end an archive. */
export const TAR_END = new Uint8Array(2 * BLOCK);
export const TAR_BLOCK = BLOCK;
