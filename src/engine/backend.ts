// Choosing the compute backend at run time.
//
// Users on GPU servers install @tensorflow/tfjs-node-gpu; elsewhere tfjs-node (libtensorflow on
// the CPU) may or may not install. Both are optional dependencies, so a failed native install never
// breaks `npm ci`; `auto` therefore TRIES them in order and falls through, with one notice line per
// miss, to the wasm backend (fast SIMD kernels, but missing some training kernels: we register our
// own, see ./wasm-kernels) and finally to the pure-JS cpu backend (complete, slow; we replace its
// filter-gradient kernel, see ./cpu-kernels).
//
// Threads: wasm's multi-threaded binary needs SharedArrayBuffer workers that tfjs only sets up in
// browsers; in Node (and Deno) tfjs-backend-wasm reports no multithread support and runs the
// single-threaded SIMD binary. Parallelism on CPUs comes from one worker process per core
// (src/engine/parallel.ts), not from wasm threads.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as wasmBackend from '@tensorflow/tfjs-backend-wasm';
import { join } from 'node:path';
import {
  NATIVE_PACKAGES,
  engineFingerprint,
  packageDir,
  type BackendChoice,
  type BackendName,
  type EngineFingerprint,
} from './fingerprint.ts';
import { registerWasmTrainingKernels } from './wasm-kernels/index.ts';
import { registerCpuTrainingKernels } from './cpu-kernels/index.ts';

export { BackendChoice, BackendName, EngineFingerprint, engineFingerprint, parseBackendChoice } from './fingerprint.ts';

export interface SelectBackendOptions {
  /** Wanted wasm threads. Ignored with a notice where wasm has no thread support (Node, Deno). */
  threads?: number;
  /** Where notices go as they happen; default: stderr. Pass `() => {}` to only collect them. */
  log?: (line: string) => void;
}

export interface SelectedBackend {
  /** The backend tfjs now runs on. */
  name: BackendName;
  /** The exact fingerprint of that backend (package versions), for cache keys and reports. */
  fingerprint: EngineFingerprint;
  /** Package name -> version (same as fingerprint.versions). */
  versions: Record<string, string>;
  /** One line per thing the user should know: a native package that failed to load, ignored threads. */
  notices: string[];
}

/** The first line of an error, short enough for a one-line notice. */
function firstLine(e: unknown): string {
  const text = e instanceof Error ? e.message : String(e);
  return (text.split('\n')[0] ?? '').slice(0, 200);
}

/**
 * Loads a native tfjs package. Importing it registers the 'tensorflow' backend with the tfjs-core
 * instance in node_modules (the same one we import), then we switch to it.
 */
async function tryNative(pkg: string): Promise<void> {
  if (packageDir(pkg) === null) throw new Error('not installed');
  // A variable specifier keeps TypeScript from requiring the (optional) package's types.
  const specifier: string = pkg;
  await import(specifier);
  if (!(await tf.setBackend('tensorflow'))) throw new Error('the tensorflow backend failed to initialise');
}

let wasmPathsSet = false;

/**
 * Points tfjs-backend-wasm at its .wasm binaries in node_modules. Its default (next to the loaded
 * script) is right for the plain Node bundle, but not under bundlers or Deno's npm cache layouts,
 * so we set it explicitly from the resolved package folder. Must run before the first setBackend('wasm').
 */
function setWasmPathsOnce(): void {
  if (wasmPathsSet) return;
  const dir = packageDir('@tensorflow/tfjs-backend-wasm');
  if (dir === null) throw new Error('@tensorflow/tfjs-backend-wasm is not installed');
  // The Node build reads the binary with fs when given a plain path; a file:// URL would be fetched.
  const dist = join(dir, 'dist') + (process.platform === 'win32' ? '\\' : '/');
  wasmBackend.setWasmPaths(dist);
  wasmPathsSet = true;
}

async function tryWasm(threads: number | undefined, notices: string[]): Promise<void> {
  setWasmPathsOnce();
  if (threads !== undefined && threads > 1) {
    const canThread = await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT');
    if (canThread) wasmBackend.setThreadsCount(threads);
    else notices.push(`wasm: ${threads} threads asked, but wasm has no thread support here; running single-threaded (use one worker per core instead)`);
  }
  registerWasmTrainingKernels();
  if (!(await tf.setBackend('wasm'))) throw new Error('the wasm backend failed to initialise');
}

async function tryCpu(): Promise<void> {
  registerCpuTrainingKernels();
  if (!(await tf.setBackend('cpu'))) throw new Error('the cpu backend failed to initialise');
}

/**
 * Makes tfjs compute on the chosen backend and says which one it got.
 *
 * - 'auto': tfjs-node-gpu, then tfjs-node, then wasm, then cpu; each miss adds a one-line notice.
 * - 'tensorflow': tfjs-node-gpu or tfjs-node, else an error naming both packages.
 * - 'wasm' / 'cpu': exactly that backend, else an error.
 */
export async function selectBackend(choice: BackendChoice = 'auto', opts: SelectBackendOptions = {}): Promise<SelectedBackend> {
  const notices: string[] = [];
  const log = opts.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const note = (line: string) => {
    notices.push(line);
    log(line);
  };
  const done = (name: BackendName): SelectedBackend => {
    const fingerprint = engineFingerprint(name);
    return { name, fingerprint, versions: fingerprint.versions, notices };
  };

  if (choice === 'auto' || choice === 'tensorflow') {
    const misses: string[] = [];
    for (const pkg of NATIVE_PACKAGES) {
      try {
        await tryNative(pkg);
        // engineFingerprint('tensorflow') names the first INSTALLED package; when the GPU one is
        // installed but failed, the provider is the one that actually loaded.
        const fingerprint = engineFingerprint('tensorflow');
        fingerprint.provider = pkg;
        return { name: 'tensorflow', fingerprint, versions: fingerprint.versions, notices };
      } catch (e) {
        misses.push(`${pkg}: ${firstLine(e)}`);
      }
    }
    if (choice === 'tensorflow') {
      throw new Error(`--backend tensorflow: no native TensorFlow package could be loaded (${misses.join('; ')})`);
    }
    note(`backend auto: native TensorFlow unavailable (${misses.join('; ')}); trying wasm`);
  }

  if (choice === 'auto' || choice === 'wasm') {
    const wasmNotices: string[] = [];
    try {
      await tryWasm(opts.threads, wasmNotices);
      for (const n of wasmNotices) note(n);
      return done('wasm');
    } catch (e) {
      if (choice === 'wasm') throw new Error(`--backend wasm: ${firstLine(e)}`);
      note(`backend auto: wasm unavailable (${firstLine(e)}); using the cpu backend (slow)`);
    }
  }

  try {
    await tryCpu();
  } catch (e) {
    throw new Error(`--backend ${choice}: ${firstLine(e)}`);
  }
  return done('cpu');
}
