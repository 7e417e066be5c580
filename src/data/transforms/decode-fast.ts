// The 'fast' JPEG decoder: libjpeg-turbo through the optional @julusian/jpeg-turbo binding.
//
// Why: sharp (libvips) costs ~2.4 ms of CPU for a 500x375 JPEG, a quarter of it fixed
// per-call set-up; the binding decodes the same file in ~0.6 ms. Its price: it hard-codes
// libjpeg's fast integer IDCT (TJFLAG_FASTDCT), so its pixels are a level or so off from
// sharp's (= Pillow's) accurate IDCT. Training pixels are drowned in augmentation, so the
// training transform uses it by default; evaluation keeps the exact decoder (options.ts).
//
// It is used only where it gives what sharp would give in every other respect: an 8-bit
// baseline/extended/progressive JPEG with 1 or 3 components (greyscale is replicated to RGB,
// as sharp does), no Adobe segment (CMYK/YCCK/RGB transforms), no ICC profile (sharp
// converts through it), EXIF orientation absent or 1 (sharp rotates), and quantisation not
// so fine that the fast IDCT's error grows (see FAST_MIN_QUANT_MEAN). Everything else, and
// any error from libjpeg-turbo (truncated or corrupt data), returns null: the caller then
// decodes with sharp, so errors still come from one place and name the file.
//
// The binding is an optional dependency, loaded lazily on first use like the native tfjs
// engines (src/engine/backend.ts); when it is missing or fails to load, one notice line
// says so and everything decodes with sharp. RSB_JPEG_TURBO=0 turns it off (tests).
import { createRequire } from 'node:module';
import { JPEG_TURBO_ENV, JPEG_TURBO_PACKAGE, jpegTurboDisabled } from '../../engine/fingerprint.ts';
import { readJpegHeader, type JpegHeader } from './jpeg-header.ts';
import type { RgbImage } from './image.ts';

/** The part of the binding's API used here (its own typings are not required at build time). */
interface JpegTurboBinding {
  FORMAT_RGB: number;
  decompressSync(src: Buffer, out: Buffer, options: { format: number }): { data: Buffer; width: number; height: number; size: number };
}

/**
 * Below this mean quantisation step (any table) the file goes to sharp. The fast IDCT keeps
 * only 2 fractional bits on the dequantised coefficients and truncates its 8-bit-fraction
 * multiplies, so its error does not shrink with the quantisation step the way the picture's
 * own coding error does: measured against sharp on 500x375 pictures, quality 75-96 (mean
 * luminance step >= 4.6) stays at max 10 levels, mean ~1.0-1.2; quality 98 (2.4) reaches 11
 * with more pixels off by 4+, quality 100 (1.0) 18-25. A mean of 4 lets q96 through.
 */
export const FAST_MIN_QUANT_MEAN = 4;

/** Why a file cannot take the fast path (null: it can), from its header alone. */
export function fastDecodeRefusal(h: JpegHeader | null): string | null {
  if (!h) return 'not a plain JPEG header';
  if (h.sof !== 0xc0 && h.sof !== 0xc1 && h.sof !== 0xc2) return `frame type 0x${h.sof.toString(16)}`;
  if (h.precision !== 8) return `${h.precision}-bit samples`;
  if (h.components !== 1 && h.components !== 3) return `${h.components} components`;
  if (h.adobe) return 'Adobe colour transform segment';
  if (h.orientation > 1) return `EXIF orientation ${h.orientation}`;
  if (h.icc) return 'ICC profile (sharp converts through it)';
  if (h.quantMeans.length === 0) return 'no quantisation table';
  if (h.quantMeans.some((m) => m < FAST_MIN_QUANT_MEAN)) return 'quantisation too fine for the fast IDCT (quality > ~96)';
  return null;
}

let binding: JpegTurboBinding | null | undefined;
let loadError = '';
let noticed = false;

/** Loads the binding once per thread; null (with the reason kept) when it is absent or broken. */
function loadBinding(): JpegTurboBinding | null {
  if (binding !== undefined) return binding;
  try {
    // A variable specifier keeps TypeScript from requiring the optional package's types.
    const specifier: string = JPEG_TURBO_PACKAGE;
    const b = createRequire(import.meta.url)(specifier) as JpegTurboBinding;
    if (typeof b.decompressSync !== 'function' || typeof b.FORMAT_RGB !== 'number') throw new Error('unexpected API');
    binding = b;
  } catch (e) {
    loadError = ((e instanceof Error ? e.message : String(e)).split('\n')[0] ?? '').slice(0, 160);
    binding = null;
  }
  return binding;
}

/**
 * What the 'fast' decoder will run on here, in words (for run.json and logs): libjpeg-turbo,
 * or sharp and why. Loads the binding if that has not happened yet.
 */
export function fastDecoderStatus(): { available: boolean; detail: string } {
  if (jpegTurboDisabled()) return { available: false, detail: `sharp: libjpeg-turbo turned off by ${JPEG_TURBO_ENV}=0` };
  if (loadBinding()) return { available: true, detail: `libjpeg-turbo (${JPEG_TURBO_PACKAGE}, fast integer IDCT) for plain JPEGs, sharp for the rest` };
  return { available: false, detail: `sharp: ${JPEG_TURBO_PACKAGE} not available (${loadError})` };
}

function available(): JpegTurboBinding | null {
  if (jpegTurboDisabled()) return null;
  const b = loadBinding();
  if (!b && !noticed) {
    noticed = true;
    process.stderr.write(`notice: decoder 'fast' asked, but ${JPEG_TURBO_PACKAGE} is not available (${loadError}); decoding with sharp (exact)\n`);
  }
  return b;
}

// One output buffer per thread, reused: the decoded picture is only read by the resize that
// follows it synchronously, so a fresh (zeroed, GC-tracked) buffer per image is waste.
// Pictures larger than this get their own buffer, so one huge file does not pin its size.
const SCRATCH_MAX = 32 << 20;
let scratch: Buffer | null = null;

/**
 * Decodes a JPEG with libjpeg-turbo into RGB, or returns null when it should go to sharp
 * instead (binding unavailable, a file sharp would treat differently, any libjpeg-turbo error).
 *
 * The result's pixels live in a per-thread buffer that the next call overwrites: read them
 * before anything else can decode (no `await` in between), or pass `keep` for a buffer of
 * your own.
 */
export function decodeFast(bytes: Uint8Array, opts: { keep?: boolean } = {}): RgbImage | null {
  const h = readJpegHeader(bytes);
  if (fastDecodeRefusal(h) !== null) return null;
  const jt = available();
  if (!jt) return null;
  const need = h!.width * h!.height * 3;
  let out: Buffer;
  if (opts.keep || need > SCRATCH_MAX) out = Buffer.allocUnsafe(need);
  else {
    // Grow by doubling (ImageNet sizes vary), never past SCRATCH_MAX.
    if (!scratch || scratch.length < need) scratch = Buffer.allocUnsafe(Math.max(need, Math.min(SCRATCH_MAX, Math.max(scratch ? scratch.length * 2 : 0, 500 * 375 * 3))));
    out = scratch;
  }
  const src = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let r: ReturnType<JpegTurboBinding['decompressSync']>;
  try {
    r = jt.decompressSync(src, out, { format: jt.FORMAT_RGB });
  } catch {
    return null; // sharp decodes it or reports the error, naming the file
  }
  if (r.width !== h!.width || r.height !== h!.height || r.size !== need) return null;
  return { width: r.width, height: r.height, data: new Uint8Array(out.buffer, out.byteOffset, need) };
}
