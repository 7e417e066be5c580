// Horizontal mirror (spec 2.3), applied after the crop and before RandAugment.
import type { RgbImage } from './image.ts';

/** Mirrors left-right in place and returns the same image. */
export function flipHorizontal(img: RgbImage): RgbImage {
  const { width: w, height: h, data: d } = img;
  for (let y = 0; y < h; y++) {
    let a = y * w * 3;
    let b = a + (w - 1) * 3;
    for (; a < b; a += 3, b -= 3) {
      const r = d[a], g = d[a + 1], bl = d[a + 2];
      d[a] = d[b];
      d[a + 1] = d[b + 1];
      d[a + 2] = d[b + 2];
      d[b] = r;
      d[b + 1] = g;
      d[b + 2] = bl;
    }
  }
  return img;
}
