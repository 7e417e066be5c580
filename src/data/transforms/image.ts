// The in-memory picture every transform works on: packed 8-bit RGB, row-major HWC,
// exactly the layout sharp's raw output and the NHWC batch use, so no step copies
// pixels just to change layout.

export interface RgbImage {
  width: number;
  height: number;
  /** width * height * 3 bytes, R G B per pixel, rows top to bottom. */
  data: Uint8Array;
}

export function makeImage(width: number, height: number, data?: Uint8Array): RgbImage {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0) {
    throw new RangeError(`image size must be positive integers, got ${width}x${height}`);
  }
  const n = width * height * 3;
  if (data && data.length !== n) {
    throw new RangeError(`image ${width}x${height} needs ${n} RGB bytes, got ${data.length}`);
  }
  return { width, height, data: data ?? new Uint8Array(n) };
}

/**
 * Where an op writes its result: `out` when the caller supplies one (RandAugment reuses
 * its buffers; an op that reads neighbouring pixels must not be handed its own input),
 * else a new buffer.
 */
export function outputBuffer(img: RgbImage, out: Uint8Array | undefined, op: string, mayAlias: boolean): Uint8Array {
  const n = img.width * img.height * 3;
  if (!out) return new Uint8Array(n);
  if (out.length !== n) throw new RangeError(`${op}: output buffer has ${out.length} bytes, the ${img.width}x${img.height} image needs ${n}`);
  if (!mayAlias && out.buffer === img.data.buffer && out.byteOffset < img.data.byteOffset + n && img.data.byteOffset < out.byteOffset + n) {
    throw new RangeError(`${op}: cannot write over its own input (it reads neighbouring pixels)`);
  }
  return out;
}

/** A filled canvas (Pillow's Image.new(mode, size, colour)). */
export function filledImage(width: number, height: number, rgb: readonly [number, number, number], into?: Uint8Array): RgbImage {
  const img = makeImage(width, height, into);
  const d = img.data;
  d[0] = rgb[0];
  d[1] = rgb[1];
  d[2] = rgb[2];
  // Double the filled prefix until the buffer is full (memcpy speed, not a byte loop).
  for (let n = 3; n < d.length; n *= 2) d.copyWithin(n, 0, Math.min(n, d.length - n));
  return img;
}
