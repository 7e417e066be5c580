// Shared by the model tests: backend set-up and small deterministic inputs.
import { selectBackend } from '../../src/engine/backend.ts';
import { Rng } from '../../src/util/rng.ts';

export async function useBackend(name: 'cpu' | 'wasm' = 'cpu'): Promise<void> {
  await selectBackend(name, { log: () => {} });
}

/** n standard-normal float32 values from a fixed stream. */
export function normals(n: number, seed: number): Float32Array {
  const rng = new Rng(seed, 4242);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = rng.gauss();
  return out;
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}
