// The one place src/model imports TensorFlow.js from; importing it also makes gradients work.
//
// tfjs-core's Node build (the CommonJS bundle that `import '@tensorflow/tfjs-core'` resolves
// to) registers no gradient functions: the union package `@tensorflow/tfjs` does that, and we
// depend on core + backends only. Importing 'tfjs-core/dist/register_all_gradients.js' fails
// under Node's ESM loader (its chain reaches dist/base.js, whose `export * from './gradients'`
// is a directory import). So, in two layers:
//   1. tfjs's own gradients, all of them, for whatever code differentiates: we import the
//      per-kernel modules of dist/gradients/ one by one and register their configs with the
//      core we use. This works under tsx (which resolves their extension-less imports) but not
//      under Deno, where it is skipped with the reason kept in `gradientSupport`.
//      Registries, engine and environment live on tfjs's global namespace, so configs from
//      that ES-module copy act on our engine; tensors cross copies safely (tfjs's Tensor
//      overrides Symbol.hasInstance for exactly this). Prod_grad is skipped: it alone imports
//      dist/base.js, and nothing of ours differentiates Prod.
//   2. Our own gradients for the kernels a ResNet training step differentiates (./gradients.ts),
//      registered last, so training computes the same numbers on every runtime.
import * as tfcore from '@tensorflow/tfjs-core';
import { readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { registerTrainingGradients } from './gradients.ts';

export * as tf from '@tensorflow/tfjs-core';

interface GradConfigLike {
  kernelName: string;
  gradFunc: (...args: never[]) => unknown;
}

function isGradConfig(v: unknown): v is GradConfigLike {
  return !!v && typeof v === 'object' && typeof (v as GradConfigLike).kernelName === 'string' && typeof (v as GradConfigLike).gradFunc === 'function';
}

/** Which gradients are available: tfjs's full set (Node via tsx) or only ours (Deno). */
export const gradientSupport: { tfjsGradients: number; reason?: string } = { tfjsGradients: 0 };

async function registerTfjsGradients(): Promise<void> {
  const require = createRequire(import.meta.url);
  const dir = join(dirname(require.resolve('@tensorflow/tfjs-core/package.json')), 'dist', 'gradients');
  const files = readdirSync(dir).filter((f) => f.endsWith('_grad.js') && f !== 'Prod_grad.js').sort();
  // Load everything first and register only if all loaded: a half-registered set would make
  // behaviour depend on file order.
  // Imported concurrently (the loader overlaps file reads and transforms), kept in file order.
  const mods = await Promise.all(files.map((f) => import(pathToFileURL(join(dir, f)).href) as Promise<Record<string, unknown>>));
  const configs = mods.flatMap((mod) => Object.values(mod).filter(isGradConfig));
  for (const c of configs) tfcore.registerGradient(c as unknown as tfcore.GradConfig);
  gradientSupport.tfjsGradients = configs.length;
}

try {
  await registerTfjsGradients();
} catch (e) {
  gradientSupport.reason = `tfjs-core's gradient modules could not be loaded (${((e as Error).message ?? String(e)).split('\n')[0]}); only the training kernels' gradients are registered`;
}
registerTrainingGradients();
