// Minimal SVG charts for the self-contained report: no scripts, no external fonts or files,
// so report.html opens anywhere (including a headless browser for screenshots).
export const esc = (s: string) =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

export const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b', '#17becf'];

export interface Series {
  name: string;
  points: { x: number; y: number }[];
  color?: string;
  dashed?: boolean;
}

export interface LineChartOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  width?: number;
  height?: number;
  /** Log scale on y (for the LR schedule, which spans 1e-6 .. 1e-2). */
  logY?: boolean;
  yMin?: number;
  yMax?: number;
}

/** "Nice" tick values covering [lo, hi]. */
function ticks(lo: number, hi: number, n = 5): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / n;
  const mag = Math.pow(10, Math.floor(Math.log10(raw)));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? raw;
  const out: number[] = [];
  for (let t = Math.ceil(lo / step) * step; t <= hi + step * 1e-9; t += step) out.push(+t.toPrecision(12));
  return out;
}

const fmt = (v: number) => (Math.abs(v) >= 1e4 || (Math.abs(v) < 1e-2 && v !== 0) ? v.toExponential(0) : String(+v.toPrecision(4)));

export function lineChart(series: Series[], o: LineChartOptions): string {
  const W = o.width ?? 560, H = o.height ?? 300;
  const m = { l: 64, r: 16, t: 32, b: 44 };
  const pw = W - m.l - m.r, ph = H - m.t - m.b;
  const all = series.flatMap((s) => s.points).filter((p) => Number.isFinite(p.y) && (!o.logY || p.y > 0));
  const xs = all.map((p) => p.x), ys = all.map((p) => (o.logY ? Math.log10(p.y) : p.y));
  let x0 = Math.min(...xs, 0), x1 = Math.max(...xs, 1);
  let y0 = o.yMin ?? Math.min(...ys), y1 = o.yMax ?? Math.max(...ys);
  if (!Number.isFinite(y0) || !Number.isFinite(y1)) [y0, y1] = [0, 1];
  if (y1 === y0) [y0, y1] = [y0 - 1, y1 + 1];
  if (x1 === x0) x1 = x0 + 1;
  const sx = (x: number) => m.l + ((x - x0) / (x1 - x0)) * pw;
  const sy = (y: number) => m.t + ph - ((y - y0) / (y1 - y0)) * ph;
  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="11">`);
  parts.push(`<title>${esc(o.title)}</title>`);
  parts.push(`<rect x="0" y="0" width="${W}" height="${H}" fill="#fff"/>`);
  parts.push(`<text x="${W / 2}" y="18" text-anchor="middle" font-size="13" font-weight="bold">${esc(o.title)}</text>`);
  const yt = o.logY ? ticks(Math.floor(y0), Math.ceil(y1), Math.max(1, Math.ceil(y1) - Math.floor(y0))).filter((t) => Number.isInteger(t)) : ticks(y0, y1);
  for (const t of yt) {
    if (t < y0 - 1e-9 || t > y1 + 1e-9) continue;
    const y = sy(t).toFixed(1);
    parts.push(`<line x1="${m.l}" x2="${m.l + pw}" y1="${y}" y2="${y}" stroke="#ddd"/>`);
    parts.push(`<text x="${m.l - 6}" y="${y}" text-anchor="end" dominant-baseline="middle">${esc(o.logY ? `1e${t}` : fmt(t))}</text>`);
  }
  for (const t of ticks(x0, x1)) {
    const x = sx(t).toFixed(1);
    parts.push(`<line x1="${x}" x2="${x}" y1="${m.t + ph}" y2="${m.t + ph + 4}" stroke="#333"/>`);
    parts.push(`<text x="${x}" y="${m.t + ph + 16}" text-anchor="middle">${esc(fmt(t))}</text>`);
  }
  parts.push(`<rect x="${m.l}" y="${m.t}" width="${pw}" height="${ph}" fill="none" stroke="#333"/>`);
  parts.push(`<text x="${m.l + pw / 2}" y="${H - 6}" text-anchor="middle">${esc(o.xLabel)}</text>`);
  parts.push(`<text x="14" y="${m.t + ph / 2}" text-anchor="middle" transform="rotate(-90 14 ${m.t + ph / 2})">${esc(o.yLabel)}</text>`);
  series.forEach((s, i) => {
    const color = s.color ?? PALETTE[i % PALETTE.length];
    const pts = s.points.filter((p) => Number.isFinite(p.y) && (!o.logY || p.y > 0));
    if (pts.length === 0) return;
    const d = pts.map((p, j) => `${j ? 'L' : 'M'}${sx(p.x).toFixed(1)},${sy(o.logY ? Math.log10(p.y) : p.y).toFixed(1)}`).join(' ');
    parts.push(`<path d="${d}" fill="none" stroke="${color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="5 3"' : ''}/>`);
    if (pts.length === 1) parts.push(`<circle cx="${sx(pts[0].x).toFixed(1)}" cy="${sy(o.logY ? Math.log10(pts[0].y) : pts[0].y).toFixed(1)}" r="3" fill="${color}"/>`);
    const ly = m.t + 8 + i * 14;
    parts.push(`<line x1="${m.l + pw - 120}" x2="${m.l + pw - 100}" y1="${ly}" y2="${ly}" stroke="${color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="5 3"' : ''}/>`);
    parts.push(`<text x="${m.l + pw - 96}" y="${ly}" dominant-baseline="middle">${esc(s.name)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('\n');
}

export interface Bar {
  group: string;
  label: string;
  value: number | null;
  color: string;
  note?: string;
}

/** Grouped vertical bars (e.g. per recipe: ours vs the paper's), values in %. */
export function barChart(bars: Bar[], o: { title: string; yLabel: string; width?: number; height?: number; yMax?: number }): string {
  const W = o.width ?? 560, H = o.height ?? 300;
  const m = { l: 56, r: 16, t: 32, b: 56 };
  const pw = W - m.l - m.r, ph = H - m.t - m.b;
  const groups = [...new Set(bars.map((b) => b.group))];
  const labels = [...new Set(bars.map((b) => b.label))];
  const yMax = o.yMax ?? 100;
  const sy = (v: number) => m.t + ph - (Math.max(0, Math.min(v, yMax)) / yMax) * ph;
  const gw = pw / Math.max(1, groups.length);
  const bw = (gw * 0.8) / Math.max(1, labels.length);
  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="11">`);
  parts.push(`<title>${esc(o.title)}</title>`);
  parts.push(`<rect x="0" y="0" width="${W}" height="${H}" fill="#fff"/>`);
  parts.push(`<text x="${W / 2}" y="18" text-anchor="middle" font-size="13" font-weight="bold">${esc(o.title)}</text>`);
  for (const t of ticks(0, yMax)) {
    const y = sy(t).toFixed(1);
    parts.push(`<line x1="${m.l}" x2="${m.l + pw}" y1="${y}" y2="${y}" stroke="#ddd"/>`);
    parts.push(`<text x="${m.l - 6}" y="${y}" text-anchor="end" dominant-baseline="middle">${esc(fmt(t))}</text>`);
  }
  groups.forEach((g, gi) => {
    const gx = m.l + gi * gw + gw * 0.1;
    labels.forEach((l, li) => {
      const b = bars.find((x) => x.group === g && x.label === l);
      if (!b || b.value === null) return;
      const x = gx + li * bw, y = sy(b.value);
      parts.push(`<rect x="${x.toFixed(1)}" y="${y.toFixed(1)}" width="${(bw - 2).toFixed(1)}" height="${(m.t + ph - y).toFixed(1)}" fill="${b.color}"><title>${esc(`${g} ${l}: ${b.value.toFixed(2)}%${b.note ? ` (${b.note})` : ''}`)}</title></rect>`);
      parts.push(`<text x="${(x + bw / 2).toFixed(1)}" y="${(y - 3).toFixed(1)}" text-anchor="middle" font-size="10">${esc(b.value.toFixed(1))}</text>`);
    });
    parts.push(`<text x="${(m.l + gi * gw + gw / 2).toFixed(1)}" y="${m.t + ph + 16}" text-anchor="middle">${esc(g)}</text>`);
  });
  labels.forEach((l, li) => {
    const color = bars.find((b) => b.label === l)?.color ?? '#999';
    const x = m.l + li * 170;
    parts.push(`<rect x="${x}" y="${H - 18}" width="12" height="10" fill="${color}"/>`);
    parts.push(`<text x="${x + 16}" y="${H - 9}">${esc(l)}</text>`);
  });
  parts.push(`<rect x="${m.l}" y="${m.t}" width="${pw}" height="${ph}" fill="none" stroke="#333"/>`);
  parts.push(`<text x="14" y="${m.t + ph / 2}" text-anchor="middle" transform="rotate(-90 14 ${m.t + ph / 2})">${esc(o.yLabel)}</text>`);
  parts.push('</svg>');
  return parts.join('\n');
}
