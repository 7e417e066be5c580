// "Did you mean" for unknown stage ids: the closest known ids by edit distance.

/** Levenshtein distance; ids are short, so the plain O(n*m) table is fine. */
export function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length];
}

/** Known ids close to `name` (at most a third of its length away, or sharing its prefix), best first. */
export function closest(name: string, known: readonly string[], max = 3): string[] {
  const limit = Math.max(2, Math.floor(name.length / 3));
  return known
    .map((k) => ({ k, d: editDistance(name.toLowerCase(), k.toLowerCase()) }))
    .filter(({ k, d }) => d <= limit || k.startsWith(name) || name.startsWith(k))
    .sort((x, y) => x.d - y.d || x.k.localeCompare(y.k))
    .slice(0, max)
    .map(({ k }) => k);
}

/** " (did you mean 'x'?)" or "" when nothing is close. */
export function didYouMean(name: string, known: readonly string[]): string {
  const c = closest(name, known);
  return c.length ? ` (did you mean ${c.map((x) => `'${x}'`).join(' or ')}?)` : '';
}
