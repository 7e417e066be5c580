// The contract between the orchestrator and a stage script.
//
// pipeline.ts runs `stages/<kind>.ts --context <file>` in a child process; the file holds
// a StageContext. A stage reads its params (validating them with its own schema), reads
// upstream outputs and external inputs from the given paths, writes every output under
// outDir (the orchestrator publishes that folder atomically into the cache after the
// process exits 0) and keeps resumable state (checkpoints) under workDir, which survives
// a killed run. Run by hand, a stage builds the same object from its own flags.
import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { readFileSync } from 'node:fs';

export const StageContext = Type.Object({
  /** Stage id, e.g. "train:a1". */
  stage: Type.String(),
  /** Cache key of this run (hex). */
  key: Type.String(),
  /** Parameter values, already validated by the orchestrator against the stage's schema. */
  params: Type.Unknown(),
  /** Empty folder to write outputs into; becomes artifacts/cache/<key>/out on success. */
  outDir: Type.String(),
  /** Resumable scratch folder for this key; kept across killed runs, deleted after publish. */
  workDir: Type.String(),
  /** Upstream stage id -> its published output folder (read-only). */
  upstream: Type.Record(Type.String(), Type.String()),
  /** External input name -> path (file or folder). */
  inputs: Type.Record(Type.String(), Type.String()),
  /** Device ids handed to this stage (also in CUDA_VISIBLE_DEVICES for GPUs); empty when none. */
  devices: Type.Array(Type.String()),
});
export type StageContext = Static<typeof StageContext>;

export function readStageContext(file: string): StageContext {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new Error(`${file}: cannot read the stage context (${(e as Error).message})`);
  }
  if (!Value.Check(StageContext, raw)) {
    const first = [...Value.Errors(StageContext, raw)][0];
    throw new Error(`${file}: invalid stage context at ${first?.path || '/'}: ${first?.message}`);
  }
  return raw;
}
