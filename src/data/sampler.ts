// Which dataset indices an epoch visits, in which order (spec 2.11).
//
// RepeatAugSampler follows timm: permute, repeat every index `numRepeats` times in a row,
// pad by wrapping to a multiple of the replica count, give replica r every
// numReplicas-th entry starting at r (so the copies of one image land on different
// replicas), and cut each replica's list to floor(n // 256 * 256 / replicas).
// ShuffleSampler is torch's DistributedSampler (or a plain shuffle with one replica).
//
// timm seeds the permutation with the epoch number alone, so every run sees the same
// order; here it comes from Rng(seed, sampler, epoch) with seed 0 by default for the same
// property, and the permutation is injectable so the goldens can feed torch's draw.
import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { Purpose, Rng } from '../util/rng.ts';

/** A permutation of 0..n-1 for an epoch. */
export type Permute = (n: number, epoch: number) => ArrayLike<number>;

/** The project's permutation: counter-based, keyed by (seed, 'sampler', epoch). */
export function rngPermutation(seed = 0): Permute {
  return (n, epoch) => new Rng(seed, Purpose.sampler, epoch).permutation(n);
}

export const RepeatAugSamplerOptions = Type.Object({
  datasetSize: Type.Integer({ minimum: 0 }),
  numReplicas: Type.Integer({ minimum: 1, default: 1 }),
  rank: Type.Integer({ minimum: 0, default: 0 }),
  numRepeats: Type.Number({ exclusiveMinimum: 0, default: 3, description: 'copies per image; fractional counts repeat a prefix' }),
  selectedRound: Type.Integer({ minimum: 0, default: 256, description: 'each replica keeps floor(n // round * round / ratio); 0: ceil(n / ratio)' }),
  selectedRatio: Type.Number({ minimum: 0, default: 0, description: '0: the replica count' }),
  shuffle: Type.Boolean({ default: true }),
  seed: Type.Integer({ minimum: 0, default: 0, description: 'permutation seed; 0 reproduces "seeded by the epoch only"' }),
});
export type RepeatAugSamplerOptions = Static<typeof RepeatAugSamplerOptions>;

export const ShuffleSamplerOptions = Type.Object({
  datasetSize: Type.Integer({ minimum: 0 }),
  numReplicas: Type.Integer({ minimum: 1, default: 1 }),
  rank: Type.Integer({ minimum: 0, default: 0 }),
  shuffle: Type.Boolean({ default: true }),
  dropLast: Type.Boolean({ default: false, description: 'drop the tail instead of padding to a multiple of the replicas' }),
  seed: Type.Integer({ minimum: 0, default: 0 }),
});
export type ShuffleSamplerOptions = Static<typeof ShuffleSamplerOptions>;

function resolve<T>(schema: Parameters<typeof Value.Check>[0], given: Partial<T>, what: string): T {
  const v = Value.Default(schema, Value.Clone(given)) as T;
  if (!Value.Check(schema, v)) {
    const e = [...Value.Errors(schema, v)][0];
    throw new Error(`${what}: ${e?.path || '/'} ${e?.message ?? 'invalid'}`);
  }
  return v;
}

function checkRank(rank: number, replicas: number, what: string): void {
  if (rank >= replicas) throw new RangeError(`${what}: rank ${rank} is not below numReplicas ${replicas}`);
}

function order(n: number, epoch: number, shuffle: boolean, permute: Permute): ArrayLike<number> {
  if (!shuffle) return Int32Array.from({ length: n }, (_, k) => k);
  const p = permute(n, epoch);
  if (p.length !== n) throw new Error(`sampler: permutation for epoch ${epoch} has ${p.length} entries, expected ${n}`);
  return p;
}

export class RepeatAugSampler {
  readonly options: RepeatAugSamplerOptions;
  /** per replica before the cut: ceil(n * repeats / replicas) */
  readonly numSamples: number;
  /** all replicas together, padded: numSamples * replicas */
  readonly totalSize: number;
  /** per replica after the cut: what an epoch actually yields */
  readonly numSelectedSamples: number;
  private readonly permute: Permute;

  constructor(opts: Partial<RepeatAugSamplerOptions> & { datasetSize: number }, permute?: Permute) {
    this.options = resolve(RepeatAugSamplerOptions, opts, 'RepeatAugSampler');
    const { datasetSize: n, numReplicas: R, rank, numRepeats, selectedRound, selectedRatio, seed } = this.options;
    checkRank(rank, R, 'RepeatAugSampler');
    this.permute = permute ?? rngPermutation(seed);
    this.numSamples = Math.ceil((n * numRepeats) / R);
    this.totalSize = this.numSamples * R;
    const ratio = selectedRatio || R;
    this.numSelectedSamples = selectedRound
      ? Math.floor((Math.floor(n / selectedRound) * selectedRound) / ratio)
      : Math.ceil(n / ratio);
  }

  get length(): number {
    return this.numSelectedSamples;
  }

  /** This replica's dataset indices for `epoch`, in order. */
  indices(epoch: number): Int32Array {
    return this.forRank(epoch, this.options.rank);
  }

  /** Any replica's list for `epoch` (the same permutation for all ranks). */
  forRank(epoch: number, rank: number): Int32Array {
    checkRank(rank, this.options.numReplicas, 'RepeatAugSampler');
    return this.rankSlice(this.repeated(epoch), rank);
  }

  /**
   * One device standing in for all replicas: global batch b is replica 0's b-th local
   * batch, then replica 1's, and so on, so the copies of an image still fall in different
   * local batches as on a multi-GPU run. Length numSelectedSamples * numReplicas.
   */
  globalOrder(epoch: number, localBatch: number): Int32Array {
    if (!(localBatch >= 1)) throw new RangeError(`globalOrder: localBatch must be >= 1, got ${localBatch}`);
    const R = this.options.numReplicas;
    const all = this.repeated(epoch);
    const per = Array.from({ length: R }, (_, r) => this.rankSlice(all, r));
    const out = new Int32Array(this.numSelectedSamples * R);
    let o = 0;
    for (let start = 0; start < this.numSelectedSamples; start += localBatch) {
      const end = Math.min(start + localBatch, this.numSelectedSamples);
      for (let r = 0; r < R; r++) {
        out.set(per[r].subarray(start, end), o);
        o += end - start;
      }
    }
    return out;
  }

  private repeated(epoch: number): Int32Array {
    const { datasetSize: n, numRepeats, shuffle } = this.options;
    const perm = order(n, epoch, shuffle, this.permute);
    let reps: Int32Array;
    if (Number.isInteger(numRepeats)) {
      reps = new Int32Array(n * numRepeats);
      for (let k = 0, o = 0; k < n; k++) for (let r = 0; r < numRepeats; r++) reps[o++] = perm[k];
    } else {
      // timm: index int(i // repeats) for i < ceil(repeats * n)
      const len = Math.ceil(numRepeats * n);
      reps = new Int32Array(len);
      for (let i = 0; i < len; i++) reps[i] = perm[Math.floor(i / numRepeats)];
    }
    const pad = this.totalSize - reps.length;
    if (pad > reps.length) {
      throw new RangeError(`RepeatAugSampler: ${reps.length} samples cannot be padded by wrapping to ${this.totalSize}`);
    }
    if (pad <= 0) return reps;
    const padded = new Int32Array(this.totalSize);
    padded.set(reps);
    padded.set(reps.subarray(0, pad), reps.length);
    return padded;
  }

  private rankSlice(all: Int32Array, rank: number): Int32Array {
    const R = this.options.numReplicas;
    const out = new Int32Array(this.numSelectedSamples);
    for (let k = 0; k < this.numSelectedSamples; k++) out[k] = all[rank + k * R];
    return out;
  }
}

export class ShuffleSampler {
  readonly options: ShuffleSamplerOptions;
  /** per replica */
  readonly numSamples: number;
  readonly totalSize: number;
  private readonly permute: Permute;

  constructor(opts: Partial<ShuffleSamplerOptions> & { datasetSize: number }, permute?: Permute) {
    this.options = resolve(ShuffleSamplerOptions, opts, 'ShuffleSampler');
    const { datasetSize: n, numReplicas: R, rank, dropLast, seed } = this.options;
    checkRank(rank, R, 'ShuffleSampler');
    this.permute = permute ?? rngPermutation(seed);
    this.numSamples = dropLast && n % R !== 0 ? Math.ceil((n - R) / R) : Math.ceil(n / R);
    this.totalSize = this.numSamples * R;
  }

  get length(): number {
    return this.numSamples;
  }

  indices(epoch: number): Int32Array {
    return this.forRank(epoch, this.options.rank);
  }

  forRank(epoch: number, rank: number): Int32Array {
    const { datasetSize: n, numReplicas: R, shuffle } = this.options;
    checkRank(rank, R, 'ShuffleSampler');
    const perm = order(n, epoch, shuffle, this.permute);
    const out = new Int32Array(this.numSamples);
    // Padding wraps around as often as needed (torch repeats the list for tiny datasets).
    for (let k = 0; k < this.numSamples; k++) {
      const g = rank + k * R;
      out[k] = perm[g % n];
    }
    return out;
  }
}
