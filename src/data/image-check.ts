// Deciding, per source file, whether to keep its bytes, convert it, or skip it.
//
// The rule (docs/data.md): a stored image is always an 8-bit, 3-channel JPEG that decodes
// completely and needs no EXIF rotation, so the loader never meets a surprise 1.28 M files in.
//  * keep: JPEG, 8-bit, 3 channels (sRGB/RGB), no alpha, orientation 1 or absent, not larger
//    than maxSide, and complete -> original bytes, untouched.
//  * convert: anything else sharp can decode (PNG named .JPEG, CMYK, greyscale, 16-bit, alpha,
//    EXIF-oriented, larger than maxSide) -> re-encoded as RGB JPEG quality 95 without metadata;
//    alpha is dropped, as PIL's convert('RGB') does; the orientation is applied (default) or
//    dropped (exifOrientation 'ignore', how PIL and so timm read such files).
//  * skip: zero bytes, unreadable header, or pixel data that ends early -> listed with the reason.
import sharp, { type Metadata } from 'sharp';

export type ExifOrientationMode = 'apply' | 'ignore';

export interface ImageCheckOptions {
  /** Re-encode images whose longer side exceeds this (null: never resize). */
  maxSide: number | null;
  /** 'apply': rotate EXIF-oriented images upright; 'ignore': keep pixels as stored (PIL/timm do). */
  exifOrientation: ExifOrientationMode;
}

export const REENCODE_QUALITY = 95;

export type ImageDecision =
  | { kind: 'keep'; bytes: Uint8Array }
  | { kind: 'convert'; bytes: Uint8Array; reason: string }
  | { kind: 'skip'; reason: string };

/**
 * True if the JPEG's image data is followed by an end-of-image marker (FF D9). A file cut short
 * (the common failure of ImageNet copies) lacks it; trailing junk after a real EOI is tolerated.
 * The search starts at the first start-of-scan marker, found by hopping over the header
 * segments by their lengths, so an EXIF thumbnail's own EOI (inside APP1) cannot pass for the
 * main image's. Inside entropy-coded data FF is always followed by 00 or a restart marker, so
 * FF D9 there can only be the real end. Cheap: a full decode is only needed when this says no.
 */
export function hasJpegEnd(b: Uint8Array): boolean {
  let i = 2;
  let sos = -1;
  while (i + 4 <= b.length) {
    if (b[i] !== 0xff) return false; // not a marker where one must be: let the decoder judge
    const m = b[i + 1];
    if (m === 0xff) { i++; continue; } // fill byte
    if (m === 0xda) { sos = i; break; }
    if ((m >= 0xd0 && m <= 0xd7) || m === 0x01) { i += 2; continue; }
    i += 2 + ((b[i + 2] << 8) | b[i + 3]);
  }
  if (sos < 0) return false;
  for (let k = b.length - 2; k > sos; k--) if (b[k] === 0xff && b[k + 1] === 0xd9) return true;
  return false;
}

function errText(e: unknown): string {
  return ((e as Error)?.message ?? String(e)).split('\n')[0].trim();
}

export async function checkImage(bytes: Uint8Array, opts: ImageCheckOptions): Promise<ImageDecision> {
  if (bytes.length === 0) return { kind: 'skip', reason: 'empty file (0 bytes)' };
  let meta: Metadata;
  try {
    meta = await sharp(bytes).metadata();
  } catch (e) {
    return { kind: 'skip', reason: `unreadable: ${errText(e)}` };
  }
  if (!meta.width || !meta.height) return { kind: 'skip', reason: 'unreadable: no image size in the header' };

  const reasons: string[] = [];
  if (meta.format !== 'jpeg') reasons.push(`${meta.format ?? 'unknown'} data, not JPEG`);
  if (meta.space === 'cmyk') reasons.push('CMYK');
  else if (meta.channels !== undefined && meta.channels < 3) reasons.push('greyscale');
  if (meta.hasAlpha) reasons.push('alpha channel');
  if (meta.depth && meta.depth !== 'uchar') reasons.push(`${meta.depth} samples`);
  // An orientation tag is never stored: decoders disagree on it (sharp's autoOrient applies it,
  // PIL ignores it), so the stored pixels must already be the ones meant.
  const orientation = meta.orientation ?? 1;
  const rotate = opts.exifOrientation === 'apply' && orientation !== 1;
  if (orientation !== 1) reasons.push(`EXIF orientation ${orientation} ${rotate ? 'applied' : 'dropped'}`);
  const longSide = Math.max(meta.width, meta.height);
  const shrink = opts.maxSide !== null && longSide > opts.maxSide;
  if (shrink) reasons.push(`longer side ${longSide} > max side ${opts.maxSide}`);

  if (reasons.length === 0) {
    if (hasJpegEnd(bytes)) return { kind: 'keep', bytes };
    // No end marker: only a full decode can tell a truncated file from a merely unusual one.
    try {
      await sharp(bytes, { failOn: 'truncated' }).raw().toBuffer();
      return { kind: 'keep', bytes };
    } catch (e) {
      return { kind: 'skip', reason: `truncated or corrupt: ${errText(e)}` };
    }
  }

  try {
    // failOn 'truncated' makes a short file an error instead of a grey-padded image.
    let img = sharp(bytes, { failOn: 'truncated' });
    if (rotate) img = img.rotate();
    if (shrink) img = img.resize({ width: opts.maxSide!, height: opts.maxSide!, fit: 'inside' });
    const out = await img
      .removeAlpha()
      .toColourspace('srgb')
      .jpeg({ quality: REENCODE_QUALITY })
      .toBuffer();
    return { kind: 'convert', bytes: new Uint8Array(out.buffer, out.byteOffset, out.byteLength), reason: reasons.join(', ') };
  } catch (e) {
    return { kind: 'skip', reason: `truncated or corrupt: ${errText(e)}` };
  }
}
