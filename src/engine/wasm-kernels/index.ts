// Registers, for the wasm backend, the kernels a ResNet training step needs that
// tfjs-backend-wasm 4.22 lacks or runs far below its fast path.
//
// How the list was made: every kernel registered for cpu but not for wasm, and a profile of a
// ResNet training step on wasm (docs/engine.md has the method and the numbers):
//   Conv2DBackpropFilter  missing: tf.grads through conv2d throws "kernel not registered".
//   Conv2DBackpropInput   present but a naive loop (~2 GFLOP/s vs ~30 for the forward conv).
//   BatchMatMul           present, but transposeA/transposeB take a naive loop (14-30x slower),
//   _FusedMatMul          and the linear layer's backward pass asks for exactly those.
//   Sum, Mean             present, but reducing all axes except the last (BatchNorm's statistics
//                         over N, H, W) transposes the whole activation first.
//   MaxPoolGrad           present, but as slow as a 3x3 conv gradient for the stem's pool.
//   Identity              copies; the engine clones every tensor saved for a gradient with it.
//   Conv2D                present and fast, but 1x1 convolutions with small filters run faster
//                         through our SIMD GEMM (./conv2d-pointwise.ts); the rest stay native.
// Everything else a step uses (Conv2D, pads, slices, MaxPool, other reductions,
// element-wise maths, Sigmoid/Log/Softplus for the losses, Sqrt/Pow for LAMB) is native in wasm.
import * as tf from '@tensorflow/tfjs-core';
import type { KernelConfig } from '@tensorflow/tfjs-core';
import { batchMatMulConfig, fusedMatMulConfig } from './batch-mat-mul.ts';
import { captureOriginal } from './compose.ts';
import { conv2DBackpropFilterConfig } from './conv2d-backprop-filter.ts';
import { conv2DConfig } from './conv2d-pointwise.ts';
import { conv2DBackpropInputConfig } from './conv2d-backprop-input.ts';
import { identityConfig } from './identity.ts';
import { maxPoolGradConfig } from './max-pool-grad.ts';
import { meanConfig, sumConfig } from './reduce-leading.ts';

/** Our kernels, in registration order. */
export const WASM_TRAINING_KERNELS: readonly KernelConfig[] = [
  conv2DConfig,
  conv2DBackpropFilterConfig,
  conv2DBackpropInputConfig,
  batchMatMulConfig,
  fusedMatMulConfig,
  sumConfig,
  meanConfig,
  maxPoolGradConfig,
  identityConfig,
];

/** What was registered for wasm before us, to restore on unregister (null = nothing). */
const replaced = new Map<string, KernelConfig | null>();

/**
 * Registers our wasm kernels (idempotent). Needs '@tensorflow/tfjs-backend-wasm' imported first
 * (it registers the native kernels we build on); works before or after setBackend('wasm').
 */
export function registerWasmTrainingKernels(): void {
  if (replaced.size > 0) return;
  // Kernels we build on but also replace: keep their native versions reachable first.
  for (const name of ['Conv2D', 'BatchMatMul', '_FusedMatMul', 'Sum', 'Mean', 'MaxPoolGrad', 'Identity']) captureOriginal(name);
  for (const config of WASM_TRAINING_KERNELS) {
    const existing = tf.getKernel(config.kernelName, 'wasm') ?? null;
    if (existing !== null) tf.unregisterKernel(config.kernelName, 'wasm');
    // The backend runs each registered kernel's setupFunc when it initialises; the native
    // kernels we replace still need theirs (that is where they bind their wasm functions, which
    // our replacements call), so a replacement carries the original's setup along.
    tf.registerKernel(existing?.setupFunc ? { ...config, setupFunc: existing.setupFunc } : config);
    replaced.set(config.kernelName, existing);
  }
}

/** Puts back the wasm backend's own kernels (used by tests and benchmarks to compare). */
export function unregisterWasmTrainingKernels(): void {
  for (const [name, previous] of replaced) {
    tf.unregisterKernel(name, 'wasm');
    if (previous !== null) tf.registerKernel(previous);
  }
  replaced.clear();
}

/** Whether our kernels are registered now. */
export function wasmTrainingKernelsRegistered(): boolean {
  return replaced.size > 0;
}
