// Module hooks for the orchestrator process under Node (registered by pipeline.ts).
//
// WHY: under Node 20, tsx's loader hooks run on a separate thread, and every ES module that is
// resolved and loaded costs two round trips to it (about 1 ms a module on the development
// machine). TypeBox's ESM build is ~250 files, which made loading it the largest part of a
// no-op `pipeline.ts` run (0.3-0.45 s). Its CommonJS build has the same code and the same
// exports; CommonJS modules are required on the main thread without those round trips.
//
// 1. resolve: imports of '@sinclair/typebox' and its subpaths (from the orchestrator, the graph
//    module and the recipes it imports) resolve to the CommonJS build.
// 2. load: importing a CommonJS file from ESM makes Node scan it, and every file it re-exports
//    (~200 for the index), for export names. Instead, the entry is served as a small ES module
//    that requires the CommonJS file and re-exports its names. The names are read once (by
//    requiring the entry here) and kept in node_modules/.cache/rsb-pipeline, stamped with the
//    entry's size and mtime; if that cache cannot be read or written, the names are read again.
//
// Schemas stay interchangeable: every TypeBox marker is a Symbol.for() symbol, and inside this
// process only the CommonJS copy loads. Plain JavaScript (.mjs) because it runs on the loader
// thread, before any TypeScript loader could apply to it. Stage scripts run in their own
// processes and are not affected; Deno never registers these hooks.
import { mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const TYPEBOX = /^@sinclair\/typebox(?:\/[a-z]+)?$/;
/** The CommonJS entry points of the package's "exports" map (index.js of the root or a subpath). */
const CJS_ENTRY = /\/node_modules\/@sinclair\/typebox\/build\/cjs\/(?:[a-z]+\/)?index\.js$/;

export async function resolve(specifier, context, nextResolve) {
  if (!TYPEBOX.test(specifier)) return nextResolve(specifier, context);
  // The package's "exports" map picks build/cjs under the "require" condition.
  const conditions = [...context.conditions.filter((c) => c !== 'import'), 'require'];
  return nextResolve(specifier, { ...context, conditions });
}

export async function load(url, context, nextLoad) {
  if (!url.startsWith('file:') || !CJS_ENTRY.test(url)) return nextLoad(url, context);
  const file = fileURLToPath(url);
  const names = exportNames(file);
  // `const _i = m[name]` then `export { _i as name }`: valid for any name, reserved words too.
  const lines = [
    `import { createRequire } from 'node:module';`,
    `const m = createRequire(${JSON.stringify(url)})(${JSON.stringify(file)});`,
    'export default m;',
    ...names.map((n, i) => `const _${i} = m[${JSON.stringify(n)}];`),
    `export { ${names.map((n, i) => `_${i} as ${n}`).join(', ')} };`,
  ];
  return { format: 'module', source: lines.join('\n'), shortCircuit: true };
}

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

/** The export names of a CommonJS entry: from the cache when its stamp matches, else by requiring it. */
function exportNames(file) {
  const st = statSync(file);
  const stamp = `${st.size}:${Math.floor(st.mtimeMs)}`;
  // RSB_TYPEBOX_EXPORTS_CACHE: another cache file (tests use a temporary one).
  const cacheFile =
    process.env.RSB_TYPEBOX_EXPORTS_CACHE ||
    join(file.slice(0, file.lastIndexOf('/@sinclair/typebox/')), '.cache', 'rsb-pipeline', 'typebox-exports.json');
  let cache = {};
  try {
    cache = JSON.parse(readFileSync(cacheFile, 'utf8'));
  } catch {
    cache = {}; // absent or unreadable: rebuilt below
  }
  const hit = cache[file];
  if (hit && hit.stamp === stamp && Array.isArray(hit.names)) return hit.names;
  const names = Object.keys(createRequire(import.meta.url)(file)).filter((n) => IDENTIFIER.test(n) && n !== 'default');
  cache[file] = { stamp, names };
  try {
    mkdirSync(dirname(cacheFile), { recursive: true });
    const tmp = `${cacheFile}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(cache));
    renameSync(tmp, cacheFile); // whole or nothing for a concurrent reader
  } catch {
    // a read-only node_modules: the names are simply read again next time
  }
  return names;
}
