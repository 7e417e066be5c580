// Kernels we supply to the pure-JS cpu backend where its own are far too slow to train with
// (see each file for the measurement). Same registration pattern as ../wasm-kernels.
import * as tf from '@tensorflow/tfjs-core';
import type { KernelConfig } from '@tensorflow/tfjs-core';
import { conv2DBackpropFilterCpuConfig } from './conv2d-backprop-filter.ts';

export const CPU_TRAINING_KERNELS: readonly KernelConfig[] = [conv2DBackpropFilterCpuConfig];

const replaced = new Map<string, KernelConfig | null>();

/** Registers our cpu kernels (idempotent); needs '@tensorflow/tfjs-backend-cpu' imported first. */
export function registerCpuTrainingKernels(): void {
  if (replaced.size > 0) return;
  for (const config of CPU_TRAINING_KERNELS) {
    const existing = tf.getKernel(config.kernelName, 'cpu') ?? null;
    if (existing !== null) tf.unregisterKernel(config.kernelName, 'cpu');
    tf.registerKernel(existing?.setupFunc ? { ...config, setupFunc: existing.setupFunc } : config);
    replaced.set(config.kernelName, existing);
  }
}

/** Puts back tfjs-backend-cpu's own kernels (tests use them as the independent reference). */
export function unregisterCpuTrainingKernels(): void {
  for (const [name, previous] of replaced) {
    tf.unregisterKernel(name, 'cpu');
    if (previous !== null) tf.registerKernel(previous);
  }
  replaced.clear();
}
