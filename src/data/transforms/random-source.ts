// Where the transforms get their randomness. Production passes an Rng from
// src/util/rng.ts (keyed by seed, epoch and sample position); the conformance adapters
// pass a ReplaySource holding the draws timm made, so the very same code path is
// checked against the goldens.

/** The Python-`random`-shaped calls the transforms make. `Rng` satisfies it. */
export interface RandomSource {
  /** Uniform in [0, 1). */
  random(): number;
  /** lo + (hi - lo) * u, CPython's formula. */
  uniform(lo: number, hi: number): number;
  /** Integer in [lo, hi], both ends inclusive. */
  randint(lo: number, hi: number): number;
  /** mu + sigma * z with z standard normal. */
  gauss(mu?: number, sigma?: number): number;
  choice<T>(items: readonly T[]): T;
}

/** One recorded draw as the goldens store it: the raw value before the function's formula. */
export interface RecordedDraw {
  fn: string;
  value: number;
  meaning?: string;
}

/** A logged call: what was asked, the raw value used and what it produced. */
export interface DrawLogEntry {
  fn: string;
  args: number[];
  value: number;
  result: number;
}

/**
 * Replays recorded draws in order, applying the same formulas as CPython's `random`
 * module (see the goldens README). A call whose function differs from the next recorded
 * one, or a call past the end, throws: the draw order is part of what is tested.
 */
export class ReplaySource implements RandomSource {
  private next = 0;
  readonly log: DrawLogEntry[] = [];

  constructor(private readonly draws: readonly RecordedDraw[], private readonly what = 'draws') {}

  /** How many recorded draws have been consumed. */
  get used(): number {
    return this.next;
  }

  get remaining(): number {
    return this.draws.length - this.next;
  }

  private take(fn: string): number {
    const d = this.draws[this.next];
    if (!d) throw new Error(`${this.what}: draw #${this.next} (${fn}) requested but only ${this.draws.length} recorded`);
    if (d.fn !== fn) throw new Error(`${this.what}: draw #${this.next} is '${d.fn}' but the code asked for '${fn}'`);
    this.next++;
    return d.value;
  }

  random(): number {
    const u = this.take('random');
    this.log.push({ fn: 'random', args: [], value: u, result: u });
    return u;
  }

  uniform(lo: number, hi: number): number {
    const u = this.take('uniform');
    const r = lo + (hi - lo) * u;
    this.log.push({ fn: 'uniform', args: [lo, hi], value: u, result: r });
    return r;
  }

  randint(lo: number, hi: number): number {
    const u = this.take('randint');
    const r = lo + Math.floor(u * (hi - lo + 1));
    this.log.push({ fn: 'randint', args: [lo, hi], value: u, result: r });
    return r;
  }

  gauss(mu = 0, sigma = 1): number {
    const z = this.take('gauss');
    const r = mu + sigma * z;
    this.log.push({ fn: 'gauss', args: [mu, sigma], value: z, result: r });
    return r;
  }

  choice<T>(items: readonly T[]): T {
    const k = this.take('choice');
    if (!Number.isInteger(k) || k < 0 || k >= items.length) {
      throw new Error(`${this.what}: choice index ${k} out of range for ${items.length} items`);
    }
    this.log.push({ fn: 'choice', args: [items.length], value: k, result: k });
    return items[k];
  }
}
