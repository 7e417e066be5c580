// Why a stage is stale, in words: the difference between the parts of its current key and
// those recorded at its last run (runs.ts). Each change is named precisely: the script, which
// imported module, which param path (as a JSON pointer), which upstream, which input file.
import { canonicalJson } from './canonical.ts';
import type { InputDetail, KeyParts } from './key.ts';
import type { RunRecord } from './runs.ts';

function short(v: unknown): string {
  const s = v === undefined ? 'absent' : canonicalJson(v);
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

function escapePointer(k: string): string {
  return k.replace(/~/g, '~0').replace(/\//g, '~1');
}

/** JSON-pointer paths where two values differ, with both values. */
export function diffValues(a: unknown, b: unknown, path = ''): { path: string; before: unknown; after: unknown }[] {
  const isObj = (x: unknown) => typeof x === 'object' && x !== null && !Array.isArray(x);
  if (isObj(a) && isObj(b)) {
    const ao = a as Record<string, unknown>;
    const bo = b as Record<string, unknown>;
    const keys = [...new Set([...Object.keys(ao), ...Object.keys(bo)])].sort();
    return keys.flatMap((k) => diffValues(ao[k], bo[k], `${path}/${escapePointer(k)}`));
  }
  if (Array.isArray(a) && Array.isArray(b) && a.length === b.length) {
    return a.flatMap((x, i) => diffValues(x, b[i], `${path}/${i}`));
  }
  if (a === undefined && b === undefined) return [];
  if (a !== undefined && b !== undefined && canonicalJson(a) === canonicalJson(b)) return [];
  return [{ path: path || '/', before: a, after: b }];
}

function diffFiles(before: Record<string, string>, after: Record<string, string>, max = 5): string {
  const changes: string[] = [];
  for (const k of Object.keys(after).sort()) {
    if (!(k in before)) changes.push(`${k} added`);
    else if (before[k] !== after[k]) changes.push(`${k} changed`);
  }
  for (const k of Object.keys(before).sort()) if (!(k in after)) changes.push(`${k} removed`);
  const more = changes.length > max ? ` and ${changes.length - max} more` : '';
  return changes.slice(0, max).join(', ') + more;
}

function describeInput(name: string, before: InputDetail | undefined, after: InputDetail | undefined): string {
  const path = after?.path ?? before?.path ?? '?';
  let what = `input '${name}' (${path}) changed`;
  if (before?.files && after?.files) {
    const d = diffFiles(before.files, after.files);
    if (d) what += `: ${d}`;
  }
  return what;
}

/**
 * The changes from the last run's parts to the current ones, one sentence each.
 * Empty when the key parts are the same.
 */
export function explainChanges(
  prev: RunRecord | undefined,
  cur: { parts: KeyParts; inputs: Record<string, InputDetail> },
): string[] {
  if (!prev) return ['never ran before (no record in artifacts/runs)'];
  const p = prev.parts;
  const c = cur.parts;
  const out: string[] = [];
  if (p.script.path !== c.script.path) out.push(`script changed from ${p.script.path} to ${c.script.path}`);
  else if (p.script.sha256 !== c.script.sha256) out.push(`script ${c.script.path} changed`);
  for (const m of Object.keys(c.modules).sort()) {
    if (!(m in p.modules)) out.push(`now imports module ${m}`);
    else if (p.modules[m] !== c.modules[m]) out.push(`imported module ${m} changed`);
  }
  for (const m of Object.keys(p.modules).sort()) if (!(m in c.modules)) out.push(`no longer imports module ${m}`);
  for (const d of diffValues(p.params, c.params)) {
    out.push(`param ${d.path} changed: ${short(d.before)} -> ${short(d.after)}`);
  }
  for (const u of Object.keys(c.upstream).sort()) {
    if (!(u in p.upstream)) out.push(`new upstream ${u}`);
    else if (p.upstream[u] !== c.upstream[u]) out.push(`upstream ${u} output changed`);
  }
  for (const u of Object.keys(p.upstream).sort()) if (!(u in c.upstream)) out.push(`no longer depends on ${u}`);
  for (const n of Object.keys(c.inputs).sort()) {
    if (!(n in p.inputs)) out.push(`new input '${n}' (${cur.inputs[n]?.path})`);
    else if (p.inputs[n] !== c.inputs[n]) out.push(describeInput(n, prev.inputs[n], cur.inputs[n]));
  }
  for (const n of Object.keys(p.inputs).sort()) if (!(n in c.inputs)) out.push(`input '${n}' removed`);
  if (canonicalJson(p.engine ?? null) !== canonicalJson(c.engine ?? null)) {
    // Name the part that moved (a tfjs version, the backend, a JPEG decoder's version or
    // 'absent'), not two truncated objects.
    const what = diffValues(p.engine ?? null, c.engine ?? null).map((d) => `${d.path} ${short(d.before)} -> ${short(d.after)}`);
    out.push(`engine fingerprint changed: ${what.join('; ')}`);
  }
  if (out.length === 0 && p.version !== c.version) out.push('the key format changed');
  return out;
}
