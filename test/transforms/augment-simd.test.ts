// RandAugment's WebAssembly kernels (augment-simd.ts) must give the bytes of the JavaScript
// they stand in for (which the goldens pin to Pillow) on every image: random pixels, odd
// widths, tiny images where every pixel is an edge, large ones that grow the module's
// memory, every op at many magnitudes, and random affine matrices.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyOp, INCREASING_OPS, LEVEL_FNS, type OpName } from '../../src/data/transforms/randaugment.ts';
import { augmentKernels, setAugmentKernels } from '../../src/data/transforms/augment-simd.ts';
import { affine } from '../../src/data/transforms/geometric.ts';
import { sharpness, color, contrast, brightness } from '../../src/data/transforms/enhance.ts';
import { lutBytes, lutBytesJs } from '../../src/data/transforms/point.ts';
import { makeImage, type RgbImage } from '../../src/data/transforms/image.ts';
import { randomImage, testImage } from './helpers.ts';
import { Rng } from '../../src/util/rng.ts';

const FILL = [124, 116, 104] as const;

/** f with the kernels off (the JavaScript reference) and on; the kernels are left on. */
function both<T>(f: () => T): [T, T] {
  setAugmentKernels(false);
  try {
    const js = f();
    setAugmentKernels(true);
    return [js, f()];
  } finally {
    setAugmentKernels(true);
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array, what: string): void {
  if (Buffer.from(a).equals(Buffer.from(b))) return;
  let p = 0;
  while (a[p] === b[p]) p++;
  assert.fail(`${what}: byte ${p} differs (JavaScript ${a[p]}, kernel ${b[p]})`);
}

/** Random pixels, or a smooth picture with flat runs (where zero offsets and equal taps occur). */
function picture(w: number, h: number, seed: number): RgbImage {
  return seed % 2 ? randomImage(w, h, seed) : testImage(w, h, seed);
}

test('the kernels assemble and validate in this runtime', () => {
  assert.ok(augmentKernels(), 'WebAssembly SIMD is available in Node 20 and Deno');
});

test("SMOOTH's byte as ((n + 6) * 5042) >> 16 equals floor((2n + 13) / 26) for every 3x3 sum", () => {
  for (let n = 0; n <= 13 * 255; n++) assert.equal(((n + 6) * 5042) >>> 16, Math.floor((2 * n + 13) / 26), `n = ${n}`);
});

test('every RandAugment op: kernels and JavaScript agree byte for byte (sizes, magnitudes, both filters)', () => {
  const sizes: [number, number][] = [[1, 1], [2, 2], [3, 3], [4, 4], [5, 4], [4, 7], [7, 5], [13, 9], [37, 29], [64, 48], [101, 63], [224, 224]];
  const rng = new Rng(41);
  let cases = 0;
  for (const [w, h] of sizes) {
    const img = picture(w, h, w * 1000 + h);
    for (const name of INCREASING_OPS) {
      const level = LEVEL_FNS[name as OpName];
      // magnitudes 0..10 and a random one; the sign draw differs per case
      for (const m of [0, 2.5, 5, 7, 10, rng.uniform(0, 10)]) {
        const args = level ? level(m, new Rng(cases)) : [];
        for (const f of ['bilinear', 'bicubic'] as const) {
          const [js, wasm] = both(() => applyOp({ ...img, data: img.data.slice() }, name, args, f, FILL).data);
          sameBytes(js, wasm, `${name}(${args.join(',')}) ${f} ${w}x${h}`);
          cases++;
        }
      }
    }
  }
  assert.equal(cases, sizes.length * INCREASING_OPS.length * 6 * 2);
});

test('the affine kernel equals the plain per-pixel loop on random matrices (rotations, shears, scales, shifts)', () => {
  const rng = new Rng(42);
  for (const [w, h] of [[4, 4], [5, 9], [17, 6], [40, 31], [96, 80]] as const) {
    const img = picture(w, h, w + 31 * h);
    for (let k = 0; k < 25; k++) {
      const deg = rng.uniform(-180, 180), rad = (deg * Math.PI) / 180;
      const s = rng.uniform(0.5, 2);
      const shift = () => (rng.random() < 0.3 ? Math.round(rng.uniform(-8, 8)) : rng.uniform(-8, 8));
      const m: readonly [number, number, number, number, number, number] = k % 5 === 0
        ? [1, rng.uniform(-0.3, 0.3), shift(), 0, 1, 0] // ShearX-like
        : k % 5 === 1
          ? [1, 0, 0, rng.uniform(-0.3, 0.3), 1, shift()] // ShearY-like
          : k % 10 === 2
            ? [1, 0, shift(), 0, 1, shift()] // whole and fractional shifts: zero offsets along one or both axes
            : k % 10 === 7
              ? [1, 0, 0, 0, k % 20 === 7 ? 1 : s, shift()] // TranslateY (and a vertical scale): whole-row blends
            : [s * Math.cos(rad), s * Math.sin(rad), shift(), -s * Math.sin(rad), s * Math.cos(rad), shift()];
      for (const f of ['bilinear', 'bicubic'] as const) {
        const want = affine(img, m, f, FILL, { general: true }).data;
        sameBytes(want, affine(img, m, f, FILL).data, `${w}x${h} ${f} [${m.join(', ')}]`);
        const into = new Uint8Array(w * h * 3).fill(9);
        sameBytes(want, affine(img, m, f, FILL, { into }).data, `into ${w}x${h} ${f}`);
      }
    }
  }
});

test('Sharpness, Color, Contrast and Brightness at any factor, and tables on odd lengths', () => {
  const rng = new Rng(43);
  for (const [w, h] of [[3, 3], [3, 8], [8, 3], [5, 5], [19, 7], [33, 17]] as const) {
    const img = picture(w, h, 7 * w + h);
    for (const factor of [0, 0.1, 0.5, 0.99, 1, 1.01, 1.9, 2.7, -0.5, 40, 100, 150, rng.uniform(0, 2)]) {
      for (const [name, op] of [['sharpness', sharpness], ['color', color], ['contrast', contrast], ['brightness', brightness]] as const) {
        const [js, wasm] = both(() => op(img, factor).data);
        sameBytes(js, wasm, `${name}(${factor}) ${w}x${h}`);
      }
    }
  }
  const tables = [0, 1, 2].map(() => Uint8Array.from({ length: 256 }, () => rng.randint(0, 255))) as [Uint8Array, Uint8Array, Uint8Array];
  for (let n = 1; n <= 40; n++) {
    // any length (a tail that is not a whole pixel too) and a buffer not at offset 0
    const buf = Uint8Array.from({ length: n + 1 }, () => rng.randint(0, 255));
    const src = buf.subarray(1);
    const want = new Uint8Array(n), got = new Uint8Array(n);
    lutBytesJs(src, want, ...tables);
    lutBytes(src, got, ...tables);
    sameBytes(want, got, `lut over ${n} bytes`);
  }
});

test('the kernels grow their memory for large images and keep working after it', () => {
  const img = picture(1300, 950, 2);
  for (const [name, args] of [['Rotate', [13.7]], ['SharpnessIncreasing', [1.7]], ['ColorIncreasing', [0.3]], ['Equalize', []], ['ContrastIncreasing', [1.4]]] as const) {
    const [js, wasm] = both(() => applyOp(img, name, [...args], 'bicubic', FILL).data);
    sameBytes(js, wasm, `${name} 1300x950`);
  }
  const small = picture(50, 40, 3);
  const [js, wasm] = both(() => applyOp(small, 'Rotate', [-21], 'bicubic', FILL).data);
  sameBytes(js, wasm, 'Rotate after growing');
  assert.ok(makeImage(1, 1));
});
