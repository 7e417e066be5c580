// npm run conformance -- <folder|file> [--backend cpu|wasm] [--op NAME ...] [--verbose]
// One line per case, `N passed, N failed` last; exit 1 on any failure or unknown op.
import { Command } from 'commander';
import { existsSync } from 'node:fs';
import { runFolder } from './run.ts';

const program = new Command()
  .name('conformance')
  .description('Check the implementation against golden vectors computed with timm')
  .argument('[path]', 'golden set folder, op folder or case file', 'test/goldens/timm')
  .option('--backend <name>', 'tfjs backend for model ops (cpu|wasm)', 'cpu')
  .option('--op <name...>', 'only these ops')
  .option('-v, --verbose', 'print every check of every case')
  .parse();

const path = program.args[0] ?? 'test/goldens/timm';
const opts = program.opts<{ backend: string; op?: string[]; verbose?: boolean }>();
if (!existsSync(path)) {
  console.error(`conformance: ${path}: no such file or folder`);
  process.exit(2);
}
let passed = 0, failed = 0;
for await (const r of runFolder(path, { backend: opts.backend, ops: opts.op })) {
  if (r.ok) passed++;
  else failed++;
  const head = `${r.ok ? 'PASS' : 'FAIL'} ${r.op}/${r.case}`;
  if (r.error) console.log(`${head}: ${r.error.split('\n')[0]}`);
  else if (!r.ok || opts.verbose) {
    console.log(head);
    for (const k of r.checks) if (!k.ok || opts.verbose) console.log(`    ${k.ok ? 'ok ' : 'BAD'} ${k.name}: ${k.detail}`);
  } else console.log(head);
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed > 0 || passed === 0 ? 1 : 0);
