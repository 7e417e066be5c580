// Module resolution hook for the orchestrator process under Node (registered by pipeline.ts).
//
// WHY: under Node 20, tsx's loader hooks run on a separate thread, and every ES module that is
// resolved and loaded costs two round trips to it (about 1 ms a module on the development
// machine). TypeBox's ESM build is ~250 files, which made loading it the largest part of a
// no-op `pipeline.ts` run (0.3-0.45 s). Its CommonJS build has the same code and the same
// exports; CommonJS modules are required on the main thread without those round trips. So
// imports of '@sinclair/typebox' and its subpaths (from the orchestrator, the graph module and
// the recipes it imports) resolve to the CommonJS build here. Schemas stay interchangeable: every
// TypeBox marker is a Symbol.for() symbol, and inside this process only the CommonJS copy loads.
//
// Plain JavaScript (.mjs) because it runs on the loader thread, before any TypeScript loader
// could apply to it. Stage scripts run in their own processes and are not affected.
const TYPEBOX = /^@sinclair\/typebox(?:\/[a-z]+)?$/;

export async function resolve(specifier, context, nextResolve) {
  if (!TYPEBOX.test(specifier)) return nextResolve(specifier, context);
  // The package's "exports" map picks build/cjs under the "require" condition.
  const conditions = [...context.conditions.filter((c) => c !== 'import'), 'require'];
  return nextResolve(specifier, { ...context, conditions });
}
