// Python's rounding rules, which the reference transforms depend on: crop sizes and
// centre-crop offsets use `round()` (half to even), and Pillow's rotate rounds its
// matrix with `round(x, 15)`. JavaScript's Math.round rounds halves up, which would
// move a crop by a pixel on exact halves.

/** Python 3 `round(x)`: nearest integer, exact halves to the even neighbour. */
export function pyRound(x: number): number {
  const f = Math.floor(x);
  const d = x - f; // exact for doubles: f and x share the exponent range
  if (d < 0.5) return f;
  if (d > 0.5) return f + 1;
  return f % 2 === 0 ? f : f + 1;
}

/**
 * Python `round(x, digits)` for small digit counts. Python rounds the exact binary value
 * correctly to `digits` decimals; toFixed does the same except on exact decimal ties,
 * which a double that is not a short decimal never hits.
 */
export function pyRoundDigits(x: number, digits: number): number {
  if (!Number.isFinite(x) || Math.abs(x) >= 1e21) return x;
  return Number(x.toFixed(digits));
}

/** Python `int(x)` on a float: truncation toward zero. */
export function pyInt(x: number): number {
  return Math.trunc(x);
}
