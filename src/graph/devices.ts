// Hands out specific device ids to stages, never more than exist.
//
// A stage that declares `resources.devices: k` waits until k ids are free, gets exactly those
// (in CUDA_VISIBLE_DEVICES for GPUs, and in its context), and returns them when it ends.
// Requests are served first come, first served, so a big request is not starved by small ones.

export class DevicePool {
  private free: string[];
  private queue: { n: number; resolve: (ids: string[]) => void }[] = [];

  constructor(readonly ids: readonly string[]) {
    this.free = [...ids];
  }

  get size(): number {
    return this.ids.length;
  }

  acquire(n: number): Promise<string[]> {
    if (n === 0) return Promise.resolve([]);
    if (n > this.ids.length) {
      return Promise.reject(new Error(`needs ${n} devices but only ${this.ids.length} are available (--devices)`));
    }
    return new Promise((resolve) => {
      this.queue.push({ n, resolve });
      this.pump();
    });
  }

  release(ids: readonly string[]): void {
    this.free.push(...ids);
    this.free.sort((a, b) => this.ids.indexOf(a) - this.ids.indexOf(b));
    this.pump();
  }

  private pump(): void {
    while (this.queue.length && this.queue[0].n <= this.free.length) {
      const { n, resolve } = this.queue.shift()!;
      resolve(this.free.splice(0, n));
    }
  }
}

/**
 * The device ids of this run: for GPUs the ones CUDA_VISIBLE_DEVICES already allows (so a job
 * scheduler's choice is respected), else 0..n-1.
 */
export function deviceIds(count: number, kind: 'gpu' | 'cpu', env: NodeJS.ProcessEnv): string[] {
  if (kind === 'gpu' && env.CUDA_VISIBLE_DEVICES) {
    const visible = env.CUDA_VISIBLE_DEVICES.split(',').map((s) => s.trim()).filter(Boolean);
    if (count > visible.length) {
      throw new Error(`--devices ${count}: CUDA_VISIBLE_DEVICES lists only ${visible.length} (${visible.join(',')})`);
    }
    return visible.slice(0, count);
  }
  return Array.from({ length: count }, (_, i) => String(i));
}
