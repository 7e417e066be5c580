// Registers, for the wasm backend, the training kernels it lacks (filled in by the kernel modules
// of this folder; see docs/engine.md).
export function registerWasmTrainingKernels(): void {
  // First version: no kernels yet; the signature is what selectBackend() relies on.
}
