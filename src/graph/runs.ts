// Last-run records: artifacts/runs/<stage>.json holds, for every stage, the key of its last
// successful (or reused) run and every part that key was built from. They are local to a clone
// and used only to explain what changed; they never decide a cache hit.
import { Type, type Static } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { mkdirSync, readFileSync, readdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { InputDetail, KeyParts } from './key.ts';

export const RunRecord = Type.Object({
  version: Type.Literal(1),
  stage: Type.String(),
  key: Type.String(),
  parts: KeyParts,
  inputs: Type.Record(Type.String(), InputDetail),
  outputHash: Type.String(),
  /** 'ran' when this command ran it, 'reused' when it found the entry in the cache. */
  how: Type.Union([Type.Literal('ran'), Type.Literal('reused')]),
  at: Type.String(),
  durationMs: Type.Optional(Type.Number()),
});
export type RunRecord = Static<typeof RunRecord>;

const RecordCheck = TypeCompiler.Compile(RunRecord);

/** Stage ids hold ':' and may hold '/'-like characters; file names get a reversible encoding. */
export function recordFileName(stage: string): string {
  return `${encodeURIComponent(stage)}.json`;
}

export class RunRecords {
  constructor(readonly dir: string) {}

  read(stage: string): RunRecord | undefined {
    let raw: unknown;
    try {
      raw = JSON.parse(readFileSync(join(this.dir, recordFileName(stage)), 'utf8'));
    } catch {
      return undefined;
    }
    return RecordCheck.Check(raw) ? raw : undefined;
  }

  write(rec: RunRecord): void {
    mkdirSync(this.dir, { recursive: true });
    const file = join(this.dir, recordFileName(rec.stage));
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, `${JSON.stringify(rec, null, 1)}\n`);
    renameSync(tmp, file);
  }

  /** Every record on disk (for gc: the keys still in use). */
  all(): RunRecord[] {
    let names: string[];
    try {
      names = readdirSync(this.dir).filter((n) => n.endsWith('.json'));
    } catch {
      return [];
    }
    const out: RunRecord[] = [];
    for (const n of names) {
      const r = this.read(decodeURIComponent(n.slice(0, -5)));
      if (r) out.push(r);
    }
    return out;
  }
}
