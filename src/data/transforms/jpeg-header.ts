// Reading a JPEG's header segments (everything before the first scan) without decoding:
// one segment walker (walkSegments) and what is read from it. Two callers: probeSize (decode.ts) wants the displayed size to choose the crop before
// decoding; the fast decoder (decode-fast.ts) wants to know whether libjpeg-turbo can give
// what sharp would give for this file. Plain byte reads, no dependencies, so the
// orchestrator side can import it too.

export interface JpegHeader {
  /** stored (not EXIF-rotated) size from the frame header */
  width: number;
  height: number;
  /** frame marker: 0xc0 baseline, 0xc1 extended, 0xc2 progressive, ... */
  sof: number;
  /** sample precision in bits (8 for ordinary JPEGs; 12 or 16 exist) */
  precision: number;
  components: number;
  /** EXIF orientation 1-8, or 0 when absent or unreadable */
  orientation: number;
  /** an APP2 ICC_PROFILE segment is present (sharp converts through it to sRGB) */
  icc: boolean;
  /** an APP14 Adobe segment is present (its transform flag picks RGB/YCbCr/CMYK/YCCK) */
  adobe: boolean;
  /** per quantisation table: the mean of its 64 entries (small = fine quantisation = high quality) */
  quantMeans: number[];
}

/**
 * Walks a JPEG's marker segments from SOI on, calling `visit(marker, start, length)` with each
 * segment's payload (after its 2-byte length). Standalone markers and fill bytes are skipped.
 * `visit` returns true to stop. The walk's result: 'stopped' (visit asked), 'malformed'
 * (not a JPEG, a bad marker, a segment running past the end) or 'end' (bytes ran out first).
 */
export function walkSegments(bytes: Uint8Array, visit: (marker: number, start: number, length: number) => boolean | void): 'stopped' | 'malformed' | 'end' {
  const n = bytes.length;
  if (n < 4 || bytes[0] !== 0xff || bytes[1] !== 0xd8) return 'malformed';
  let p = 2;
  while (p + 4 <= n) {
    if (bytes[p] !== 0xff) return 'malformed';
    const marker = bytes[p + 1];
    if (marker === 0xff) { p++; continue; } // fill byte
    if (marker === 0xd8 || (marker >= 0xd0 && marker <= 0xd7) || marker === 0x01) { p += 2; continue; }
    const len = (bytes[p + 2] << 8) | bytes[p + 3];
    if (len < 2 || p + 2 + len > n) return 'malformed';
    if (visit(marker, p + 4, len - 2)) return 'stopped';
    p += 2 + len;
  }
  return 'end';
}

/**
 * The header of a JPEG up to its first start-of-scan, or null when the bytes are not a JPEG
 * or a segment is malformed or cut short before the scan starts.
 */
export function readJpegHeader(bytes: Uint8Array): JpegHeader | null {
  type Frame = Pick<JpegHeader, 'width' | 'height' | 'sof' | 'precision' | 'components'>;
  // Held in an object: TypeScript does not see assignments made inside the visitor.
  const got: { frame: Frame | null } = { frame: null };
  let orientation = 0;
  let icc = false, adobe = false, bad = false, scan = false;
  const quantMeans: number[] = [];
  const walk = walkSegments(bytes, (marker, seg, segLen) => {
    if (marker === 0xe1) {
      const o = exifOrientation(bytes, seg, segLen);
      if (o) orientation = o;
    } else if (marker === 0xe2) {
      if (startsWith(bytes, seg, segLen, 'ICC_PROFILE')) icc = true;
    } else if (marker === 0xee) {
      if (startsWith(bytes, seg, segLen, 'Adobe')) adobe = true;
    } else if (marker === 0xdb) {
      // One or more tables: a byte Pq|Tq, then 64 entries of 1 (Pq 0) or 2 (Pq 1) bytes.
      let q = seg;
      const end = seg + segLen;
      while (q < end) {
        const wide = bytes[q] >> 4;
        const size = wide ? 128 : 64;
        if (q + 1 + size > end) return (bad = true);
        let sum = 0;
        for (let k = 0; k < 64; k++) sum += wide ? (bytes[q + 1 + 2 * k] << 8) | bytes[q + 2 + 2 * k] : bytes[q + 1 + k];
        quantMeans.push(sum / 64);
        q += 1 + size;
      }
    } else if (isStartOfFrame(marker)) {
      if (segLen < 6) return (bad = true);
      const frame: Frame = {
        sof: marker,
        precision: bytes[seg],
        height: (bytes[seg + 1] << 8) | bytes[seg + 2],
        width: (bytes[seg + 3] << 8) | bytes[seg + 4],
        components: bytes[seg + 5],
      };
      if (!frame.width || !frame.height) return (bad = true);
      got.frame = frame;
    } else if (marker === 0xda) {
      return (scan = true);
    }
    return false;
  });
  if (walk !== 'stopped' || bad || !scan || !got.frame) return null;
  return { ...got.frame, orientation, icc, adobe, quantMeans };
}

export function isStartOfFrame(m: number): boolean {
  return m >= 0xc0 && m <= 0xcf && m !== 0xc4 && m !== 0xc8 && m !== 0xcc;
}

function startsWith(b: Uint8Array, start: number, len: number, text: string): boolean {
  if (len < text.length) return false;
  for (let k = 0; k < text.length; k++) if (b[start + k] !== text.charCodeAt(k)) return false;
  return true;
}

/** Orientation tag (0x0112) of IFD0 in an APP1 Exif segment, or 0. */
export function exifOrientation(b: Uint8Array, start: number, len: number): number {
  // "Exif\0\0" then a TIFF header
  if (len < 14 || b[start] !== 0x45 || b[start + 1] !== 0x78 || b[start + 2] !== 0x69 || b[start + 3] !== 0x66) return 0;
  const t = start + 6;
  const end = start + len;
  const little = b[t] === 0x49 && b[t + 1] === 0x49;
  if (!little && !(b[t] === 0x4d && b[t + 1] === 0x4d)) return 0;
  const u16 = (q: number) => (little ? b[q] | (b[q + 1] << 8) : (b[q] << 8) | b[q + 1]);
  const u32 = (q: number) => (little ? (b[q] | (b[q + 1] << 8) | (b[q + 2] << 16)) + b[q + 3] * 0x1000000 : b[q] * 0x1000000 + ((b[q + 1] << 16) | (b[q + 2] << 8) | b[q + 3]));
  const ifd = t + u32(t + 4);
  if (ifd + 2 > end) return 0;
  const count = u16(ifd);
  for (let k = 0; k < count; k++) {
    const e = ifd + 2 + k * 12;
    if (e + 12 > end) return 0;
    if (u16(e) === 0x0112) {
      const v = u16(e + 8);
      return v >= 1 && v <= 8 ? v : 0;
    }
  }
  return 0;
}
