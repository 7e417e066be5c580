// Decoding with sharp, in ONE call per image: EXIF orientation applied, any colour space
// (CMYK, greyscale, 16-bit, PNG or WebP behind a .JPEG name) turned into 8-bit sRGB with
// three channels, alpha dropped. Optionally the JPEG decoder shrinks by 2/4/8 while
// decoding (DCT scaling), which costs far less than decoding everything and filtering it
// away; callers decide when that is acceptable (see shrinkFor).
import sharp, { type OutputInfo } from 'sharp';
import type { RgbImage } from './image.ts';
import { exifOrientation, isStartOfFrame, walkSegments } from './jpeg-header.ts';

// The pipeline runs many small images through sharp; libvips's operation cache only
// holds memory for images that never repeat, and one libvips thread per call suits a
// loader that already runs one decode per worker.
sharp.cache(false);
sharp.concurrency(1);

export interface DecodedImage extends RgbImage {
  /** size of the whole picture after EXIF rotation, before any shrink-on-load */
  fullWidth: number;
  fullHeight: number;
}

export interface DecodeOptions {
  /** 1 (default), 2, 4 or 8: decode at about 1/shrink of the full size */
  shrink?: number;
  /** the full (oriented) size when already known from probeSize, needed to shrink */
  fullSize?: { width: number; height: number };
  /**
   * decode only this region of the displayed picture (needs fullSize; not with shrink).
   * libjpeg stops after the region's last row, and less is copied around.
   */
  region?: { left: number; top: number; width: number; height: number };
  /** names the image in error messages (a file name or shard position) */
  what?: string;
}

export class DecodeError extends Error {
  override name = 'DecodeError';
}

export async function decodeRgb(bytes: Uint8Array, opts: DecodeOptions = {}): Promise<DecodedImage> {
  const what = opts.what ?? 'image';
  if (bytes.length === 0) throw new DecodeError(`${what}: empty file (0 bytes)`);
  const shrink = opts.shrink ?? 1;
  if (![1, 2, 4, 8].includes(shrink)) throw new RangeError(`${what}: shrink must be 1, 2, 4 or 8, got ${shrink}`);
  let pipeline = sharp(bytes, { failOn: 'error' }).autoOrient();
  let full = opts.fullSize;
  if (opts.region) {
    const r = opts.region;
    if (shrink > 1) throw new RangeError(`${what}: region and shrink cannot be combined`);
    if (!full || r.left < 0 || r.top < 0 || r.width < 1 || r.height < 1 || r.left + r.width > full.width || r.top + r.height > full.height) {
      throw new RangeError(`${what}: region ${JSON.stringify(r)} is not inside the picture (${full ? `${full.width}x${full.height}` : 'size unknown'})`);
    }
    // After autoOrient, so the region is in displayed coordinates.
    if (r.left !== 0 || r.top !== 0 || r.width !== full.width || r.height !== full.height) pipeline = pipeline.extract(r);
  }
  if (shrink > 1) {
    if (!full) throw new RangeError(`${what}: shrink-on-load needs the full size (probeSize)`);
    // Asking for exactly floor(size / k) lets libjpeg's DCT scaling do nearly all of it.
    pipeline = pipeline.resize(Math.max(1, Math.floor(full.width / shrink)), Math.max(1, Math.floor(full.height / shrink)), {
      fit: 'fill', kernel: 'linear', fastShrinkOnLoad: true,
    });
  }
  let out: { data: Buffer; info: OutputInfo };
  try {
    out = await pipeline.toColourspace('srgb').removeAlpha().raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
  } catch (e) {
    throw new DecodeError(`${what}: cannot decode image (${(e as Error).message.split('\n')[0]})`);
  }
  const { width, height, channels } = out.info;
  if (channels !== 3) throw new DecodeError(`${what}: decoder gave ${channels} channels, expected RGB`);
  const data = new Uint8Array(out.data.buffer, out.data.byteOffset, out.data.length);
  if (!full) full = { width, height };
  return { width, height, data, fullWidth: full.width, fullHeight: full.height };
}

/**
 * The displayed size of a JPEG (EXIF orientations 5-8 swap width and height) from its
 * header alone, without decoding. Null when the bytes are not a JPEG or the header is
 * unusual; callers then decode first and crop afterwards.
 */
export function probeSize(bytes: Uint8Array): { width: number; height: number } | null {
  let orientation = 1;
  let size: { width: number; height: number } | null = null;
  // Stops at the frame header: the size is known there, whatever follows.
  walkSegments(bytes, (marker, seg, len) => {
    if (marker === 0xe1) {
      const o = exifOrientation(bytes, seg, len);
      if (o) orientation = o;
    } else if (isStartOfFrame(marker)) {
      if (len < 5) return true;
      const height = (bytes[seg + 1] << 8) | bytes[seg + 2];
      const width = (bytes[seg + 3] << 8) | bytes[seg + 4];
      if (width && height) size = orientation >= 5 && orientation <= 8 ? { width: height, height: width } : { width, height };
      return true;
    } else if (marker === 0xda) {
      return true; // scan started without a frame header
    }
    return false;
  });
  return size;
}

/**
 * The largest DCT shrink (1, 2, 4, 8) that still leaves the region of interest at least
 * twice the output size in both directions, so the final antialiased resample (not the
 * decoder's box-like scaling) still shapes the result.
 */
export function shrinkFor(regionW: number, regionH: number, outW: number, outH: number): number {
  let k = 8;
  while (k > 1 && (regionW / k < 2 * outW || regionH / k < 2 * outH)) k /= 2;
  return k;
}
