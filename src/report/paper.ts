// The paper's figures, kept as data with their sources (paper-results.json), and their schema.
import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const Nullable = <T extends ReturnType<typeof Type.Number>>(t: T) => Type.Union([t, Type.Null()]);

export const PaperRecipe = Type.Object({
  label: Type.String(),
  top1: Type.Number(),
  confirmed: Type.Boolean(),
  ref: Type.String(),
  timmTop1: Nullable(Type.Number()),
  timmTop5: Nullable(Type.Number()),
  timmRef: Type.String(),
});
export const PaperResults = Type.Object({
  source: Type.String(),
  dataset: Type.String(),
  recipes: Type.Record(Type.String(), PaperRecipe),
  earlier: Type.Array(
    Type.Object({ id: Type.String(), label: Type.String(), top1: Type.Number(), confirmed: Type.Boolean(), ref: Type.String() }),
  ),
  trainingTime: Type.Array(
    Type.Object({ recipe: Type.String(), value: Type.String(), confirmed: Type.Boolean(), ref: Type.String() }),
  ),
});
export type PaperResults = Static<typeof PaperResults>;

export const PAPER_RESULTS_FILE = fileURLToPath(new URL('./paper-results.json', import.meta.url));

export function loadPaperResults(file = PAPER_RESULTS_FILE): PaperResults {
  let v: unknown;
  try {
    v = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new Error(`${file}: cannot read the paper's results (${(e as Error).message})`);
  }
  if (!Value.Check(PaperResults, v)) {
    const e = [...Value.Errors(PaperResults, v)][0];
    throw new Error(`${file}: ${e?.path || '/'}: ${e?.message}`);
  }
  return v;
}
