// Shared helpers for the engine tests: run the same computation on the cpu and wasm backends
// from the same random inputs, and compare with a tolerance derived from float32 error bounds.
import * as tf from '@tensorflow/tfjs-core';
// tfjs-core's Node bundle registers no gradients; the model's tf module does (see src/model/tf.ts).
import '../../src/model/tf.ts';
import { selectBackend } from '../../src/engine/backend.ts';
import { Rng } from '../../src/util/rng.ts';

let ready: Promise<void> | null = null;

/** Initialises wasm (with our kernels, through selectBackend) and cpu once per process. */
export function initBackends(): Promise<void> {
  ready ??= (async () => {
    await selectBackend('wasm', { log: () => {} });
    await selectBackend('cpu', { log: () => {} });
  })();
  return ready;
}

/** Standard normal values from a counter-based stream (same on every run and machine). */
export function gaussian(shape: readonly number[], seed: number, stream: number): Float32Array {
  const rng = new Rng(seed, stream);
  let n = 1;
  for (const d of shape) n *= d;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = rng.gauss();
  return out;
}

export function abs(values: Float32Array): Float32Array {
  return values.map(Math.abs);
}

/** Runs `fn` on a backend and returns its (single) result's values; frees every tensor it made. */
export async function on(backend: 'cpu' | 'wasm', fn: () => tf.Tensor): Promise<{ shape: number[]; values: Float32Array }> {
  await tf.setBackend(backend);
  const t = tf.tidy(fn);
  const values = (await t.data()) as Float32Array;
  const shape = t.shape;
  t.dispose();
  return { shape, values };
}

/**
 * Every element within the worst-case float32 error bound of a length-L sum, whatever the
 * summation order (Higham's gamma_L = L*u/(1 - L*u), u = 2^-24), applied to BOTH results
 * (their orders differ): |got - want| <= 2 * gamma_L * S, where S = sum of |terms|, obtained
 * exactly by running the same kernel on |inputs|. An indexing mistake moves values by O(S) and
 * fails; honest rounding differences cannot.
 * Returns null when fine, else a message naming the worst element.
 */
export function withinSumBound(got: Float32Array, want: Float32Array, absTermSums: Float32Array, terms: number): string | null {
  if (got.length !== want.length) return `length ${got.length}, expected ${want.length}`;
  const u = 2 ** -24;
  const gamma = (terms * u) / (1 - terms * u);
  let bad = 0, worst = -1, worstRatio = 0;
  for (let i = 0; i < want.length; i++) {
    const limit = 2 * gamma * absTermSums[i] + 1e-30;
    const ratio = Math.abs(got[i] - want[i]) / limit;
    if (!(ratio <= 1)) {
      bad++;
      if (!(ratio <= worstRatio)) { worstRatio = ratio; worst = i; }
    }
  }
  if (bad === 0) return null;
  return `${bad}/${want.length} elements beyond the float32 bound; worst [${worst}]: got ${got[worst]}, want ${want[worst]}, |terms| sum ${absTermSums[worst]}`;
}

/** Max |got - want| relative to max |want| (for end-to-end comparisons where errors propagate). */
export function relMaxDiff(got: ArrayLike<number>, want: ArrayLike<number>): number {
  let maxDiff = 0, maxRef = 0;
  for (let i = 0; i < want.length; i++) {
    maxDiff = Math.max(maxDiff, Math.abs(got[i] - want[i]));
    maxRef = Math.max(maxRef, Math.abs(want[i]));
  }
  if (Number.isNaN(maxDiff)) return Infinity;
  return maxRef === 0 ? maxDiff : maxDiff / maxRef;
}
