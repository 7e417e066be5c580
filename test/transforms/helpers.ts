// Shared bits of the transform tests: deterministic test pictures.
import sharp from 'sharp';
import { makeImage, type RgbImage } from '../../src/data/transforms/image.ts';
import { Rng } from '../../src/util/rng.ts';

/** A smooth-plus-texture RGB picture, the same for the same seed. */
export function testImage(width: number, height: number, seed = 1): RgbImage {
  const rng = new Rng(seed, 99);
  const img = makeImage(width, height);
  const d = img.data;
  const fx = rng.uniform(3, 9), fy = rng.uniform(3, 9);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const p = (y * width + x) * 3;
      d[p] = (x * 255) / Math.max(1, width - 1);
      d[p + 1] = (y * 255) / Math.max(1, height - 1);
      d[p + 2] = 128 + 100 * Math.sin(x / fx) * Math.cos(y / fy);
    }
  }
  return img;
}

export function randomImage(width: number, height: number, seed = 1): RgbImage {
  const rng = new Rng(seed, 98);
  const img = makeImage(width, height);
  for (let k = 0; k < img.data.length; k++) img.data[k] = rng.nextUint32() & 255;
  return img;
}

export async function toJpeg(img: RgbImage, quality = 95): Promise<Buffer> {
  return sharp(img.data, { raw: { width: img.width, height: img.height, channels: 3 } }).jpeg({ quality }).toBuffer();
}

export function meanAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`lengths differ: ${a.length} vs ${b.length}`);
  let s = 0;
  for (let k = 0; k < a.length; k++) s += Math.abs(a[k] - b[k]);
  return s / a.length;
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let k = 0; k < a.length; k++) m = Math.max(m, Math.abs(a[k] - b[k]));
  return m;
}
