// npm run bench -- <name> [args...]: runs bench/<name>.ts, which prints a table and a JSON line.
// With no name, lists the benchmarks.
import { readdirSync } from 'node:fs';
import { spawnSync } from 'node:child_process';

const dir = new URL('.', import.meta.url).pathname;
const names = readdirSync(dir).filter((f) => f.endsWith('.ts') && f !== 'index.ts').map((f) => f.slice(0, -3)).sort();
const [name, ...rest] = process.argv.slice(2);
if (!name || !names.includes(name)) {
  if (name) console.error(`unknown benchmark '${name}'`);
  console.error(`usage: npm run bench -- <${names.join('|')}> [args]`);
  process.exit(name ? 2 : 0);
}
const r = spawnSync(process.execPath, ['--import', 'tsx', `${dir}${name}.ts`, ...rest], { stdio: 'inherit' });
process.exit(r.status ?? 1);
