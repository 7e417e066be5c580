// What a stage declaration is: the data a graph module hands to defineGraph().
//
// A stage is one run of one script with one set of parameters. Everything that may change
// its result is declared here, because the cache key is built from exactly these fields
// (see key.ts): the script (and the local modules it imports), the validated params, the
// upstream stages' outputs, the external inputs and, when the numerics depend on it, the
// engine fingerprint. Paths are relative to the graph's root so that keys are relocatable.
import { Type, type Static, type TSchema } from '@sinclair/typebox';

/** Stage ids look like `prepare:imagenet`, `train:a1`, `compare`. */
export const StageId = Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9_.:@+-]*$', maxLength: 120 });

export const StageResources = Type.Object({
  /** How many devices (GPUs, or CPU worker slots) the stage needs at once; 0 or absent: none. */
  devices: Type.Optional(Type.Integer({ minimum: 0 })),
});
export type StageResources = Static<typeof StageResources>;

/**
 * The declaration schema. `paramsSchema` is itself a TypeBox schema (any TSchema); it is
 * checked here only for being an object, and used by defineGraph to validate `params`.
 */
export const StageDecl = Type.Object({
  id: StageId,
  /** Stage script, relative to the graph root, e.g. `stages/train.ts`. */
  script: Type.String({ minLength: 1 }),
  /** Human description shown by `pipeline.ts list`. */
  description: Type.Optional(Type.String()),
  /** TypeBox schema of `params`; absent means params must be an empty object or absent. */
  paramsSchema: Type.Optional(Type.Unsafe<TSchema>(Type.Object({}, { additionalProperties: true }))),
  /** Parameter values; validated (defaults applied) against paramsSchema. */
  params: Type.Optional(Type.Unknown()),
  /** Ids of stages whose published outputs this stage reads. */
  upstream: Type.Optional(Type.Array(StageId)),
  /**
   * External inputs: name -> path (file or folder) relative to the graph root, or absolute
   * for data living outside the repository. Only the CONTENT enters the key, never the path.
   */
  inputs: Type.Optional(Type.Record(Type.String({ pattern: '^[A-Za-z0-9_.-]+$' }), Type.String({ minLength: 1 }))),
  /** Files (relative to the output folder) the stage must write; a missing one fails the stage. */
  outputs: Type.Optional(Type.Array(Type.String({ minLength: 1 }))),
  resources: Type.Optional(StageResources),
  /** 'engine': the installed compute engine (tfjs packages, native bindings) enters the key. */
  fingerprint: Type.Optional(Type.Literal('engine')),
  /**
   * Modules (relative to the graph root) that only supply VALUES which reach the stage through
   * `params`, e.g. the recipe registry a train script imports for its by-hand mode. Their values
   * are already in the key as params, so they are not hashed as code and not followed: a comment
   * in recipes/a2.ts must not make train:a1 stale. A module also reached by another import path
   * is still hashed.
   */
  paramModules: Type.Optional(Type.Array(Type.String({ minLength: 1 }))),
});
/** A stage as written in a graph module. */
export type StageDecl = Static<typeof StageDecl>;

/** A stage after defineGraph: params validated, lists filled in, paths normalised. */
export interface Stage {
  readonly id: string;
  readonly script: string;
  readonly description: string;
  readonly paramsSchema: TSchema | undefined;
  readonly params: unknown;
  readonly upstream: readonly string[];
  readonly inputs: Readonly<Record<string, string>>;
  readonly outputs: readonly string[];
  readonly devices: number;
  readonly fingerprint: 'engine' | undefined;
  readonly paramModules: readonly string[];
}
