// The engine fingerprint: which compute backend a stage will run on, the exact versions
// of the TensorFlow.js packages behind it, and which JPEG decoders the stage can use.
//
// Numerics depend on the backend (summation order, fused kernels, float paths), so the
// orchestrator mixes this into the cache key of every stage whose output depends on them.
// The orchestrator must start fast and never loads tfjs, so this file imports NO tfjs module:
// it only finds the installed packages' package.json files and reads their versions.
import { Type, type Static } from '@sinclair/typebox';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** What a user asks for on the command line (`--backend`). */
export const BackendChoice = Type.Union([
  Type.Literal('auto'),
  Type.Literal('tensorflow'),
  Type.Literal('wasm'),
  Type.Literal('cpu'),
]);
export type BackendChoice = Static<typeof BackendChoice>;

/** The parsed form of a `--backend` flag value, with a clear error naming the source otherwise. */
export function parseBackendChoice(value: string, source = '--backend'): BackendChoice {
  if (value === 'auto' || value === 'tensorflow' || value === 'wasm' || value === 'cpu') return value;
  throw new Error(`${source}: unknown backend '${value}' (expected auto, tensorflow, wasm or cpu)`);
}

/** A backend that actually runs: tfjs's own registry names ('tensorflow' is tfjs-node(-gpu)). */
export const BackendName = Type.Union([Type.Literal('tensorflow'), Type.Literal('wasm'), Type.Literal('cpu')]);
export type BackendName = Static<typeof BackendName>;

export const EngineFingerprint = Type.Object({
  /** The backend the stage will run on. */
  backend: BackendName,
  /** For 'tensorflow': which native package provides it (the GPU build computes differently). */
  provider: Type.Optional(Type.String()),
  /** Package name -> installed version, for every package whose code computes on this backend. */
  versions: Type.Record(Type.String(), Type.String()),
  /**
   * JPEG decoder package -> installed version, 'absent' or 'disabled': the pixels a stage trains
   * and evaluates on come from these (sharp is exact; the libjpeg-turbo binding is the 'fast'
   * decoder, see src/data/transforms/decode-fast.ts). Optional: records from before it lack it.
   */
  decoders: Type.Optional(Type.Record(Type.String(), Type.String())),
});
export type EngineFingerprint = Static<typeof EngineFingerprint>;

/** The native packages in the order `auto` tries them (GPU first). */
export const NATIVE_PACKAGES = ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node'] as const;
export type NativePackage = (typeof NATIVE_PACKAGES)[number];

/** Every compute package, core first; the backend decides which of them matter. */
const PACKAGES_FOR: Record<BackendName, readonly string[]> = {
  tensorflow: ['@tensorflow/tfjs-core'], // plus the provider, added below
  // The wasm backend forwards the kernels it lacks to nothing, but tfjs-core's gradients
  // and our own kernels (src/engine/wasm-kernels, hashed as source by the orchestrator) run on it.
  wasm: ['@tensorflow/tfjs-core', '@tensorflow/tfjs-backend-wasm'],
  cpu: ['@tensorflow/tfjs-core', '@tensorflow/tfjs-backend-cpu'],
};

/** The optional libjpeg-turbo binding behind the 'fast' JPEG decoder. */
export const JPEG_TURBO_PACKAGE = '@julusian/jpeg-turbo';
/** Set to 0 to keep the 'fast' decoder from using the binding (everything decodes with sharp). */
export const JPEG_TURBO_ENV = 'RSB_JPEG_TURBO';

/** Whether the environment turns the libjpeg-turbo binding off (RSB_JPEG_TURBO=0). */
export function jpegTurboDisabled(): boolean {
  return process.env[JPEG_TURBO_ENV] === '0';
}

/**
 * The JPEG decoders' versions, without loading them: sharp (libvips, the exact decoder) and
 * the libjpeg-turbo binding ('absent' when not installed, 'disabled' under RSB_JPEG_TURBO=0).
 * Installing or removing the binding, or upgrading sharp, changes which pixels training sees,
 * so it changes the key of every stage that declares the engine fingerprint.
 */
export function decoderVersions(): Record<string, string> {
  return {
    sharp: packageVersion('sharp') ?? 'absent',
    [JPEG_TURBO_PACKAGE]: jpegTurboDisabled() ? 'disabled' : (packageVersion(JPEG_TURBO_PACKAGE) ?? 'absent'),
  };
}

/**
 * The folder of an installed package, or null when it is not installed.
 * Walks up node_modules folders from this file (works the same under Node and Deno with a
 * node_modules folder), then falls back to Node's resolver. Never loads the package's code.
 */
export function packageDir(name: string): string | null {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(dir, 'node_modules', name, 'package.json');
    if (existsSync(candidate)) return dirname(candidate);
    const parent = dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  try {
    return dirname(createRequire(import.meta.url).resolve(`${name}/package.json`));
  } catch {
    return null;
  }
}

/** The installed version of a package, or null when it is not installed. */
export function packageVersion(name: string): string | null {
  const dir = packageDir(name);
  if (dir === null) return null;
  const file = join(dir, 'package.json');
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new Error(`${file}: cannot read the package manifest (${(e as Error).message})`);
  }
  const version = (parsed as { version?: unknown }).version;
  if (typeof version !== 'string') throw new Error(`${file}: no "version" string in the package manifest`);
  return version;
}

/** The first native package that is installed, in `auto`'s order, or null. */
export function installedNativePackage(): NativePackage | null {
  for (const name of NATIVE_PACKAGES) if (packageDir(name) !== null) return name;
  return null;
}

/**
 * The backend a choice resolves to, decided from what is installed (no code is loaded).
 * 'auto' prefers tensorflow when a native package is installed, else wasm, else cpu.
 * Caveat: an installed native package can still fail to load (missing CUDA, wrong glibc);
 * selectBackend() then falls through, and the stage should record the fingerprint of the
 * backend it really got (engineFingerprint(selected.name)), which can differ from this guess.
 */
export function predictBackend(choice: BackendChoice = 'auto'): BackendName {
  if (choice !== 'auto') return choice;
  if (installedNativePackage() !== null) return 'tensorflow';
  if (packageDir('@tensorflow/tfjs-backend-wasm') !== null) return 'wasm';
  return 'cpu';
}

/**
 * The engine fingerprint for a backend choice, without loading tfjs.
 * @param choice 'auto' (default) predicts the backend from the installed packages.
 * @throws when the chosen backend's packages are not installed.
 */
export function engineFingerprint(choice: BackendChoice = 'auto'): EngineFingerprint {
  const backend = predictBackend(choice);
  const names = [...PACKAGES_FOR[backend]];
  let provider: string | undefined;
  if (backend === 'tensorflow') {
    provider = installedNativePackage() ?? undefined;
    if (provider === undefined) {
      throw new Error(`backend 'tensorflow' needs ${NATIVE_PACKAGES.join(' or ')}, and neither is installed`);
    }
    names.push(provider);
  }
  const versions: Record<string, string> = {};
  for (const name of names) {
    const v = packageVersion(name);
    if (v === null) throw new Error(`backend '${backend}' needs the package ${name}, which is not installed`);
    versions[name] = v;
  }
  const decoders = decoderVersions();
  return provider === undefined ? { backend, versions, decoders } : { backend, provider, versions, decoders };
}

/** A short stable string of a fingerprint, for logs and file names ("wasm tfjs-core@4.22.0 ..."). */
export function describeFingerprint(fp: EngineFingerprint): string {
  const parts = Object.keys(fp.versions)
    .sort()
    .map((name) => `${name.replace('@tensorflow/', '')}@${fp.versions[name]}`);
  return [fp.provider ? `${fp.backend}(${fp.provider.replace('@tensorflow/', '')})` : fp.backend, ...parts].join(' ');
}
