// Which runtime runs pipeline.ts, and how to run a stage script under the same one.
//
// Stage scripts are TypeScript. Under Node they run through tsx, loaded as `--import <tsx>`
// with tsx resolved from THIS file (not from the working folder, which may be a clone without
// its own node_modules path to tsx); under Deno they run with `deno run -A`.
import process from 'node:process';

declare const Deno: { execPath(): string; version: { deno: string } } | undefined;

export interface Runtime {
  name: 'node' | 'deno';
  version: string;
  /** argv (program first) that runs `script` with `args` under this runtime. */
  command(script: string, args: string[]): string[];
}

export function currentRuntime(): Runtime {
  if (typeof Deno !== 'undefined') {
    const exe = Deno.execPath();
    return {
      name: 'deno',
      version: Deno.version.deno,
      command: (script, args) => [exe, 'run', '-A', script, ...args],
    };
  }
  let tsx: string | undefined; // resolved on first use: a no-op run never needs it
  return {
    name: 'node',
    version: process.versions.node,
    // .js/.mjs scripts need no loader; everything else goes through tsx.
    command: (script, args) =>
      /\.m?js$/.test(script)
        ? [process.execPath, script, ...args]
        : [process.execPath, '--import', (tsx ??= import.meta.resolve('tsx')), script, ...args],
  };
}
