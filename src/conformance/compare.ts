// Comparison helpers shared by the op adapters: every check yields a named result,
// so a failing case says which output, which element and by how much.
import type { Tolerance } from './format.ts';

export interface Check {
  name: string;
  ok: boolean;
  detail: string;
}

type NumArray = ArrayLike<number>;

/** Elementwise |got - want| <= atol + rtol*|want| (the goldens' rule). */
export function allClose(name: string, got: NumArray, want: NumArray, tol: Pick<Tolerance, 'atol' | 'rtol'>): Check {
  if (got.length !== want.length) {
    return { name, ok: false, detail: `length ${got.length}, expected ${want.length}` };
  }
  let worst = -1, worstExcess = 0, maxAbs = 0, bad = 0;
  for (let i = 0; i < want.length; i++) {
    const d = Math.abs(got[i] - want[i]);
    if (Number.isNaN(got[i]) !== Number.isNaN(want[i])) { bad++; worst = i; worstExcess = Infinity; continue; }
    maxAbs = Math.max(maxAbs, d);
    const excess = d - (tol.atol + tol.rtol * Math.abs(want[i]));
    if (excess > 0) {
      bad++;
      if (excess > worstExcess) { worstExcess = excess; worst = i; }
    }
  }
  if (bad === 0) return { name, ok: true, detail: `max abs diff ${maxAbs.toExponential(2)}` };
  return {
    name, ok: false,
    detail: `${bad}/${want.length} elements out of tolerance; worst at ${worst}: got ${got[worst]}, expected ${want[worst]}`,
  };
}

export function scalarClose(name: string, got: number, want: number, tol: Pick<Tolerance, 'atol' | 'rtol'>): Check {
  return allClose(name, [got], [want], tol);
}

/** Exact equality for integers, boxes, strings, index lists (deep, JSON-shaped). */
export function exactEqual(name: string, got: unknown, want: unknown): Check {
  const g = JSON.stringify(normalise(got));
  const w = JSON.stringify(normalise(want));
  return g === w ? { name, ok: true, detail: 'exact' } : { name, ok: false, detail: `got ${clip(g)}, expected ${clip(w)}` };
}

function normalise(v: unknown): unknown {
  if (ArrayBuffer.isView(v)) return Array.from(v as unknown as ArrayLike<number>);
  if (Array.isArray(v)) return v.map(normalise);
  if (v && typeof v === 'object') {
    return Object.fromEntries(Object.entries(v as Record<string, unknown>).map(([k, x]) => [k, normalise(x)]));
  }
  return v;
}

function clip(s: string): string {
  return s.length > 200 ? `${s.slice(0, 200)}...` : s;
}
