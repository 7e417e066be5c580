// The plan: what a command would do for each stage, and why, without running anything.
//
// Stages are visited upstream first. A stage whose upstream will run cannot know its key yet
// (the key holds the upstream's OUTPUT hash): it is 'pending', and at run time it may still
// turn out cached if the upstream writes the same bytes again.
import { Type, type Static } from '@sinclair/typebox';
import { explainChanges } from './explain.ts';
import { stageKey, type StageKey } from './key.ts';
import type { Session } from './session.ts';

export const PlanState = Type.Union([Type.Literal('cached'), Type.Literal('run'), Type.Literal('pending')]);
export type PlanState = Static<typeof PlanState>;

export const PlanItem = Type.Object({
  id: Type.String(),
  state: PlanState,
  /** Known unless its upstream will run first (pending, or forced behind a stale upstream). */
  key: Type.Optional(Type.String()),
  /** Why it will run (or why it is pending); for cached stages, notes such as reuse of an older entry. */
  reasons: Type.Array(Type.String()),
  script: Type.String(),
  upstream: Type.Array(Type.String()),
  devices: Type.Number(),
});
export type PlanItem = Static<typeof PlanItem>;

export interface PlanEntry extends PlanItem {
  /** Internal: the computed key and its parts (absent when pending). */
  computed?: StageKey;
  outputHash?: string;
}

export type ForceSet = ReadonlySet<string> | 'all';

export function isForced(force: ForceSet, id: string): boolean {
  return force === 'all' || force.has(id);
}

/** Plans the given stages (which must be closed under upstream, in graph order). */
export async function makePlan(session: Session, ids: readonly string[], force: ForceSet): Promise<Map<string, PlanEntry>> {
  const plan = new Map<string, PlanEntry>();
  for (const id of ids) {
    const stage = session.graph.stages.get(id)!;
    const base = { id, script: stage.script, upstream: [...stage.upstream], devices: stage.devices };
    const busy = stage.upstream.filter((u) => plan.get(u)!.state !== 'cached');
    if (busy.length) {
      // Its key waits for the upstream output; a forced stage runs whatever that turns out to be.
      const forced = isForced(force, id);
      plan.set(id, {
        ...base,
        state: forced ? 'run' : 'pending',
        reasons: forced
          ? ['forced (--force)']
          : [
              `waits for ${busy.map((u) => `${u} (${plan.get(u)!.state === 'run' ? 'will run' : 'pending'})`).join(', ')}; ` +
                `reruns only if ${busy.length > 1 ? 'their outputs change' : 'its output changes'}`,
            ],
      });
      continue;
    }
    const outputs = Object.fromEntries(stage.upstream.map((u) => [u, plan.get(u)!.outputHash!]));
    const computed = await stageKey(stage, session.keys, outputs);
    const prev = session.records.read(id);
    const changes = explainChanges(prev, computed);
    const verdict = await session.store.verify(computed.key, session.memo);
    let state: PlanState;
    let reasons: string[];
    if (isForced(force, id)) {
      state = 'run';
      reasons = ['forced (--force)', ...(verdict.ok ? [] : changes)];
    } else if (verdict.ok) {
      state = 'cached';
      reasons = prev && prev.key !== computed.key ? ['reuses an entry from an earlier run with these inputs'] : [];
    } else {
      state = 'run';
      if (!verdict.absent) reasons = [`its cache entry failed the manifest check (${verdict.problem})`, ...changes];
      else reasons = changes.length ? changes : ['same inputs as its last run, but the cache entry is gone'];
    }
    plan.set(id, {
      ...base,
      state,
      key: computed.key,
      reasons,
      computed,
      outputHash: verdict.ok ? verdict.manifest.outputHash : undefined,
    });
  }
  return plan;
}

/** The plan as data (for --dry-run --json): internal fields dropped. */
export function planAsData(plan: ReadonlyMap<string, PlanEntry>): PlanItem[] {
  return [...plan.values()].map(({ computed: _c, outputHash: _o, ...item }) => item);
}
