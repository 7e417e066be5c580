// The one place src/model imports TensorFlow.js from; importing it also makes gradients work.
//
// Why the gradient loader: tfjs-core's Node build (the CommonJS bundle that
// `import '@tensorflow/tfjs-core'` resolves to) registers no gradient functions: the union
// package `@tensorflow/tfjs` does that, and we depend on core + backends only. The obvious fix,
// importing 'tfjs-core/dist/register_all_gradients.js', fails under Node's ESM loader (its
// chain reaches dist/base.js, whose `export * from './gradients'` is a directory import).
// So we import the per-kernel gradient modules of dist/gradients/ one by one and register
// their configs with the core we use. Registries, the engine and the environment live on
// tfjs's global namespace, so configs from that ES-module copy act on the same engine; tensors
// cross copies safely (tfjs's Tensor overrides Symbol.hasInstance for exactly this).
// Prod_grad is skipped: it alone imports dist/base.js, and no model or loss of ours uses Prod.
import * as tfcore from '@tensorflow/tfjs-core';
import { readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';

export * as tf from '@tensorflow/tfjs-core';

interface GradConfigLike {
  kernelName: string;
  gradFunc: (...args: never[]) => unknown;
}

function isGradConfig(v: unknown): v is GradConfigLike {
  return !!v && typeof v === 'object' && typeof (v as GradConfigLike).kernelName === 'string' && typeof (v as GradConfigLike).gradFunc === 'function';
}

async function registerAllGradients(): Promise<number> {
  // Already done by someone else (another module, or the union package)? Conv2D is a good probe.
  if (tfcore.getGradient('Conv2D') && tfcore.getGradient('FusedBatchNorm')) return 0;
  const require = createRequire(import.meta.url);
  const dir = join(dirname(require.resolve('@tensorflow/tfjs-core/package.json')), 'dist', 'gradients');
  let files: string[];
  try {
    files = readdirSync(dir).filter((f) => f.endsWith('_grad.js') && f !== 'Prod_grad.js').sort();
  } catch (e) {
    throw new Error(`src/model/tf.ts: cannot list tfjs-core gradient modules in ${dir} (${(e as Error).message})`);
  }
  let n = 0;
  for (const f of files) {
    const mod = (await import(pathToFileURL(join(dir, f)).href)) as Record<string, unknown>;
    for (const v of Object.values(mod)) {
      if (isGradConfig(v)) {
        tfcore.registerGradient(v as unknown as tfcore.GradConfig);
        n++;
      }
    }
  }
  return n;
}

await registerAllGradients();
