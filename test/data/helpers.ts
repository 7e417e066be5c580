// Shared helpers for the data tests: temp folders and small images in every awkward format.
import { mkdtempSync, rmSync, readdirSync, statSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import sharp from 'sharp';

export function tempDir(tag: string): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), `rsb-data-${tag}-`));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A W x H RGB picture with structure (so JPEG sizes and rotations are visible). */
export function pattern(w: number, h: number, seed = 1): Buffer {
  const raw = Buffer.alloc(w * h * 3);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      const p = (y * w + x) * 3;
      raw[p] = (x * 255) / w;
      raw[p + 1] = (y * 255) / h;
      raw[p + 2] = (x * y * seed) % 256;
    }
  return raw;
}

function img(w: number, h: number, seed = 1) {
  return sharp(pattern(w, h, seed), { raw: { width: w, height: h, channels: 3 } });
}

export const odd = {
  jpeg: (w = 48, h = 32, seed = 1) => img(w, h, seed).jpeg({ quality: 90 }).toBuffer(),
  cmyk: () => img(48, 32).toColourspace('cmyk').jpeg().toBuffer(),
  grey: () => img(48, 32).toColourspace('b-w').jpeg().toBuffer(),
  png: () => img(48, 32).png().toBuffer(),
  png16: () => img(48, 32).toColourspace('rgb16').png().toBuffer(),
  rgba: () => img(48, 32).ensureAlpha().png().toBuffer(),
  /** Stored 48 wide, 32 high, tagged "rotate 90 clockwise to view" (EXIF orientation 6). */
  rotated: () => img(48, 32).jpeg().withMetadata({ orientation: 6 }).toBuffer(),
  truncated: async () => {
    const b = await img(64, 48).jpeg({ quality: 95 }).toBuffer();
    return b.subarray(0, Math.floor(b.length * 0.6));
  },
};

/** Every file under `dir` (relative path -> bytes), for comparing two output folders. */
export function snapshot(dir: string, skip: (rel: string) => boolean = () => false): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else {
        const rel = relative(dir, p);
        if (!skip(rel)) out.set(rel, readFileSync(p));
      }
    }
  };
  walk(dir);
  return out;
}
