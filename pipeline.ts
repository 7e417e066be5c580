// The command line of the task graph: `npx tsx pipeline.ts --help` or `deno run -A pipeline.ts --help`.
//
// Kept deliberately light: it imports the graph engine and commander, never tfjs or sharp, so
// it starts fast; the stages that compute run as separate processes.
import process from 'node:process';
import { fileURLToPath } from 'node:url';
import { main } from './src/cli/main.ts';

const code = await main(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  cwd: process.cwd(),
  env: process.env,
  defaultGraph: fileURLToPath(new URL('./src/pipeline/definition.ts', import.meta.url)),
});
process.exitCode = code;
