// Counter-based random streams.
//
// Every random draw in the pipeline comes from a stream keyed by
// (seed, purpose, epoch, index, ...): the key is hashed into a 128-bit state for
// a small fast generator (sfc32). Because a stream depends only on its key and
// never on what was drawn before it, the crop of sample 17 in epoch 3 is the
// same whether one worker or eight produce the batch, and a resumed run
// continues exactly where it stopped: nothing has to be replayed.

/** Why a stream exists. Distinct purposes never share draws. */
export const Purpose = {
  sampler: 1,
  crop: 2,
  flip: 3,
  randAugment: 4,
  mixup: 5,
  dropPath: 6,
  init: 7,
  interpolation: 8,
  dataset: 9,
  test: 10,
} as const;
export type PurposeName = keyof typeof Purpose;

/** murmur3's 32-bit finaliser: a bijective avalanche mix. */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Folds an arbitrary list of non-negative integers (up to 2^53) into four 32-bit words. */
function keyState(words: readonly number[]): [number, number, number, number] {
  let a = 0x9e3779b9, b = 0x243f6a88, c = 0xb7e15162, d = 0x3c6ef372;
  for (const w of words) {
    if (!Number.isFinite(w) || w < 0 || !Number.isInteger(w)) {
      throw new RangeError(`rng key words must be non-negative integers, got ${w}`);
    }
    const lo = w >>> 0;
    const hi = Math.floor(w / 0x100000000) >>> 0;
    a = fmix32(a ^ lo ^ fmix32(d + 0x6a09e667));
    b = fmix32(b ^ hi ^ fmix32(a + 0xbb67ae85));
    c = fmix32(c ^ fmix32(b + lo + 0x3c6ef372));
    d = fmix32(d ^ fmix32(c + hi + 0xa54ff53a));
  }
  return [a, b, c, d];
}

export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;
  private spareGauss: number | null = null;

  /** A stream for the key (seed, ...key). Equal keys give equal streams. */
  constructor(seed: number, ...key: number[]) {
    [this.a, this.b, this.c, this.d] = keyState([seed, key.length, ...key]);
    // Warm up so that keys differing in one bit diverge fully.
    for (let i = 0; i < 12; i++) this.nextUint32();
  }

  /** sfc32 (Chris Doty-Humphrey's small fast chaotic generator). */
  nextUint32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** Uniform in [0, 1) with 53 random bits. */
  random(): number {
    const hi = this.nextUint32() >>> 5; // 27 bits
    const lo = this.nextUint32() >>> 6; // 26 bits
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.random();
  }

  /** Integer in [lo, hi], both ends inclusive (Python's randint). */
  randint(lo: number, hi: number): number {
    if (hi < lo) throw new RangeError(`randint(${lo}, ${hi}): empty range`);
    return lo + Math.floor(this.random() * (hi - lo + 1));
  }

  /** Standard normal draw scaled: mu + sigma * z (Box-Muller, both values used). */
  gauss(mu = 0, sigma = 1): number {
    let z: number;
    if (this.spareGauss !== null) {
      z = this.spareGauss;
      this.spareGauss = null;
    } else {
      let u = 0;
      while (u === 0) u = this.random();
      const v = this.random();
      const r = Math.sqrt(-2 * Math.log(u));
      z = r * Math.cos(2 * Math.PI * v);
      this.spareGauss = r * Math.sin(2 * Math.PI * v);
    }
    return mu + sigma * z;
  }

  /** Gamma(shape, 1) by Marsaglia and Tsang, with the shape < 1 boost. */
  gamma(shape: number): number {
    if (shape <= 0) throw new RangeError(`gamma shape must be > 0, got ${shape}`);
    if (shape < 1) {
      let u = 0;
      while (u === 0) u = this.random();
      return this.gamma(shape + 1) * Math.pow(u, 1 / shape);
    }
    const d = shape - 1 / 3;
    const c = 1 / Math.sqrt(9 * d);
    for (;;) {
      let x: number, v: number;
      do {
        x = this.gauss();
        v = 1 + c * x;
      } while (v <= 0);
      v = v * v * v;
      const u = this.random();
      if (u < 1 - 0.0331 * x * x * x * x) return d * v;
      if (Math.log(u) < 0.5 * x * x + d * (1 - v + Math.log(v))) return d * v;
    }
  }

  /** Beta(alpha, beta) as X / (X + Y) with X ~ Gamma(alpha), Y ~ Gamma(beta). */
  beta(alpha: number, beta: number): number {
    const x = this.gamma(alpha);
    const y = this.gamma(beta);
    return x + y === 0 ? 0.5 : x / (x + y);
  }

  /** A uniformly random permutation of 0..n-1 (Fisher-Yates). */
  permutation(n: number): Int32Array {
    const p = new Int32Array(n);
    for (let i = 0; i < n; i++) p[i] = i;
    for (let i = n - 1; i > 0; i--) {
      const j = Math.floor(this.random() * (i + 1));
      const t = p[i];
      p[i] = p[j];
      p[j] = t;
    }
    return p;
  }

  choice<T>(items: readonly T[]): T {
    if (items.length === 0) throw new RangeError('choice from an empty list');
    return items[Math.floor(this.random() * items.length)];
  }
}

/** The stream for one purpose of one sample in one epoch. */
export function streamFor(seed: number, purpose: PurposeName, epoch: number, index: number, ...more: number[]): Rng {
  return new Rng(seed, Purpose[purpose], epoch, index, ...more);
}
