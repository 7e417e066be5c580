// The subcommands that only look at the graph and the store: list, graph, status, gc.
import { existsSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Graph } from '../graph/define.ts';
import { makePlan } from '../graph/plan.ts';
import type { Session } from '../graph/session.ts';

export function listStages(graph: Graph): string {
  const width = Math.max(...graph.order.map((id) => id.length));
  const lines = graph.order.map((id) => {
    const s = graph.stages.get(id)!;
    const extra = [
      s.upstream.length ? `after ${s.upstream.join(', ')}` : '',
      s.devices ? `${s.devices} device(s)` : '',
      graph.defaultTargets.includes(id) ? 'default target' : '',
    ].filter(Boolean);
    return `${id.padEnd(width)}  ${s.script}${extra.length ? `  (${extra.join('; ')})` : ''}${s.description ? `\n${' '.repeat(width + 2)}${s.description}` : ''}`;
  });
  return `${lines.join('\n')}\n`;
}

function quoteDot(s: string): string {
  return `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

export function graphDiagram(graph: Graph, format: 'mermaid' | 'dot'): string {
  const ids = graph.order;
  if (format === 'dot') {
    const lines = ['digraph pipeline {', '  rankdir=LR;', '  node [shape=box];'];
    for (const id of ids) lines.push(`  ${quoteDot(id)} [label=${quoteDot(`${id}\n${graph.stages.get(id)!.script}`)}];`);
    for (const id of ids) for (const u of graph.stages.get(id)!.upstream) lines.push(`  ${quoteDot(u)} -> ${quoteDot(id)};`);
    lines.push('}');
    return `${lines.join('\n')}\n`;
  }
  // Mermaid node ids must be plain words; the stage id goes into the label.
  const node = new Map(ids.map((id, i) => [id, `s${i}`]));
  const lines = ['flowchart LR'];
  for (const id of ids) lines.push(`  ${node.get(id)}["${id.replace(/"/g, '#quot;')}"]`);
  for (const id of ids) for (const u of graph.stages.get(id)!.upstream) lines.push(`  ${node.get(u)} --> ${node.get(id)}`);
  return `${lines.join('\n')}\n`;
}

export async function statusTable(session: Session): Promise<string> {
  const plan = await makePlan(session, session.graph.order, new Set());
  const width = Math.max(...session.graph.order.map((id) => id.length));
  const rows = [...plan.values()].map((p) => {
    const rec = session.records.read(p.id);
    const state = p.state === 'run' ? 'stale' : p.state;
    const last = rec ? `${rec.how} ${rec.at.replace('T', ' ').slice(0, 19)}` : 'never ran';
    const reasons = p.reasons.filter((r) => !r.startsWith('never ran')); // the last-run column says so
    const why = p.state === 'cached' || !reasons.length ? '' : `  ${reasons[0]}${reasons.length > 1 ? ` (+${reasons.length - 1} more)` : ''}`;
    return `${p.id.padEnd(width)}  ${state.padEnd(7)}  ${(p.key ?? '').slice(0, 12).padEnd(12)}  ${last}${why}`;
  });
  return `${'stage'.padEnd(width)}  ${'state'.padEnd(7)}  ${'key'.padEnd(12)}  last run\n${rows.join('\n')}\n`;
}

function sizeOf(p: string): number {
  const st = statSync(p, { throwIfNoEntry: false });
  if (!st) return 0;
  if (!st.isDirectory()) return st.size;
  return readdirSync(p).reduce((n, e) => n + sizeOf(join(p, e)), 0);
}

function mb(bytes: number): string {
  return `${(bytes / 1e6).toFixed(1)} MB`;
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Deletes store entries that no run record refers to, temporary folders of dead runs on this
 * host and, with `work`, scratch folders of unreferenced keys. A store shared by several clones
 * (--cache-dir) only knows THIS clone's records: run gc from one place.
 */
export async function gc(session: Session, o: { dryRun: boolean; work: boolean }): Promise<string> {
  const keep = new Set(session.records.all().map((r) => r.key));
  const doomed: string[] = [];
  const store = session.store;
  if (existsSync(store.dir)) {
    for (const name of readdirSync(store.dir)) {
      if (/^[0-9a-f]{64}$/.test(name) && !keep.has(name)) doomed.push(join(store.dir, name));
    }
  }
  if (existsSync(store.tmpDir)) {
    for (const name of readdirSync(store.tmpDir)) {
      // <key>.<pid>.<n> or trash.<key>.<pid>.<n>: removable once that process is gone.
      const pid = Number(name.split('.').at(-2));
      if (!Number.isInteger(pid) || !pidAlive(pid)) doomed.push(join(store.tmpDir, name));
    }
  }
  if (o.work && existsSync(session.paths.work)) {
    for (const name of readdirSync(session.paths.work)) if (!keep.has(name)) doomed.push(join(session.paths.work, name));
  }
  let total = 0;
  const lines: string[] = [];
  for (const p of doomed) {
    const size = sizeOf(p);
    total += size;
    lines.push(`${o.dryRun ? 'would delete' : 'deleted'} ${p} (${mb(size)})`);
    if (!o.dryRun) rmSync(p, { recursive: true, force: true });
  }
  if (!o.dryRun) {
    const dropped = session.memo.prune();
    session.memo.save();
    if (dropped) lines.push(`forgot ${dropped} vanished file(s) in the hash memo`);
  }
  lines.push(`${o.dryRun ? 'would free' : 'freed'} ${mb(total)} in ${doomed.length} folder(s); kept ${keep.size} entr${keep.size === 1 ? 'y' : 'ies'}`);
  return `${lines.join('\n')}\n`;
}
