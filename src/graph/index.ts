// src/graph: an ML-agnostic cached task graph.
//
// HOW A GRAPH MODULE LOOKS (src/pipeline/definition.ts, or a fixture passed with --graph):
//
//   import { Type } from '@sinclair/typebox';
//   import { defineGraph, type GraphBuildOptions } from '../graph/index.ts';
//
//   export function buildGraph(opts: GraphBuildOptions) {
//     return defineGraph({
//       root: new URL('../..', import.meta.url),       // paths below are relative to this folder
//       defaultTargets: ['compare'],                     // built when no --target is given
//       stages: [
//         { id: 'prepare:tiny', script: 'stages/prepare.ts',
//           paramsSchema: Type.Object({ size: Type.Integer({ minimum: 1 }) }), params: { size: 64 },
//           inputs: { images: 'data/tiny' },               // file or folder; only its CONTENT is keyed
//           outputs: ['shards/index.json'] },              // must exist after the run, else it fails
//         { id: 'train:a1', script: 'stages/train.ts', upstream: ['prepare:tiny'],
//           paramsSchema: TrainParams, params: { recipe: recipes.a1 },
//           resources: { devices: opts.devices },          // gets that many specific device ids
//           fingerprint: 'engine' },                       // tfjs versions / native bindings enter the key
//         ...
//       ],
//     });
//   }
//
// A stage script is run as `<runtime> <script> --context <file.json>` (see context.ts): it reads
// its params, `upstream[id]` folders and `inputs[name]` paths, writes outputs under `outDir`,
// keeps resumable state under `workDir`, and exits 0 on success. The orchestrator publishes
// outDir atomically into artifacts/cache/<key>/out with a manifest of hashes.
//
// The cache key (key.ts) = sha256 of canonical JSON over: stage id, script + every local module
// it imports (content hashes), validated params, upstream OUTPUT hashes (early cutoff), external
// inputs by content hash, engine fingerprint when declared. No absolute path, mtime or host name.
export { StageDecl, StageId, StageResources, type Stage } from './stage.ts';
export { defineGraph, isGraph, type Graph, type GraphSpec, type GraphBuildOptions, type GraphModule } from './define.ts';
export { StageContext, readStageContext } from './context.ts';
export { GraphError } from './errors.ts';
