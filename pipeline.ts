// The command line of the task graph: `npx tsx pipeline.ts --help` or `deno run -A pipeline.ts --help`.
//
// Kept deliberately light: it imports the graph engine and commander, never tfjs or sharp, so
// it starts fast; the stages that compute run as separate processes.
import process from 'node:process';
import { fileURLToPath } from 'node:url';

declare const Deno: unknown;

// Under Node, TypeBox is loaded from its CommonJS build (see src/cli/typebox-cjs-hooks.mjs: it
// saves most of the start-up). The hook must be in place before anything imports TypeBox, so the
// orchestrator itself is imported dynamically below. RSB_ESM_TYPEBOX=1 turns it off (to compare).
if (typeof Deno === 'undefined' && !process.env.RSB_ESM_TYPEBOX) {
  const { register } = await import('node:module');
  register('./src/cli/typebox-cjs-hooks.mjs', import.meta.url);
}
const { main } = await import('./src/cli/main.ts');

const code = await main(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  cwd: process.cwd(),
  env: process.env,
  defaultGraph: fileURLToPath(new URL('./src/pipeline/definition.ts', import.meta.url)),
});
process.exitCode = code;
