// The replica side of data parallelism (see parallel.ts), independent of the transport:
// builds its own copy of the model on its own tfjs backend, then serves the lead's requests
// one at a time, in order.
//
// Memory: with worker threads, `params`, `grads` and `buffers` are views of SharedArrayBuffers
// the lead also sees, and messages carry no tensors. With a process per device they are
// private arrays, and tensors travel in the messages (`paramsData`, `gradsData`, `buffersData`).
import { selectBackend } from './backend.ts';
import { createResNet } from '../model/resnet.ts';
import { accumulateMicroBatch, GradAccumulator, type MicroBatch } from '../train/step.ts';
import { flatLayout, readFlat, writeFlat, type ReplicaSpec } from './parallel.ts';

export type ReplicaRequest =
  | { id: number; type: 'init' }
  | { id: number; type: 'load'; params: boolean; buffers: boolean; paramsData?: Float32Array; buffersData?: Float32Array }
  | { id: number; type: 'grads'; loadParams: boolean; mbs: MicroBatch[]; paramsData?: Float32Array }
  | { id: number; type: 'readBuffers' };

export interface ReplicaMemory {
  params: Float32Array | null;
  grads: Float32Array | null;
  buffers: Float32Array | null;
  /** true: the arrays are private, so data travels in messages. */
  copy: boolean;
}

export function serveReplica(spec: ReplicaSpec, memory: ReplicaMemory, onMessage: (h: (m: ReplicaRequest) => void) => void, send: (m: unknown) => void): void {
  const ready = (async () => {
    await selectBackend(spec.backend, { log: () => {} });
    // The weights come from the lead (syncAll); init 'none' skips the random init's cost.
    const model = createResNet(spec.arch, { ...spec.modelOptions, init: 'none' });
    const pLayout = flatLayout(model.parameters.map((p) => p.shape));
    const bLayout = flatLayout(model.buffers.map((b) => b.shape));
    const params = memory.params ?? new Float32Array(pLayout.total);
    const grads = memory.grads ?? new Float32Array(pLayout.total);
    const buffers = memory.buffers ?? new Float32Array(bLayout.total);
    return { model, pLayout, bLayout, params, grads, buffers, acc: new GradAccumulator() };
  })();

  let queue: Promise<void> = Promise.resolve();
  onMessage((msg) => {
    queue = queue.then(async () => {
      try {
        const s = await ready;
        const paramVars = () => s.model.trainableVariables;
        const bufVars = () => s.model.buffers.map((b) => b.variable);
        switch (msg.type) {
          case 'init':
            send({ id: msg.id, type: 'ok' });
            return;
          case 'load':
            if (msg.paramsData) s.params.set(msg.paramsData);
            if (msg.buffersData) s.buffers.set(msg.buffersData);
            if (msg.params) writeFlat(paramVars(), s.pLayout, s.params);
            if (msg.buffers) writeFlat(bufVars(), s.bLayout, s.buffers);
            send({ id: msg.id, type: 'ok' });
            return;
          case 'grads': {
            const t0 = performance.now();
            if (msg.paramsData) s.params.set(msg.paramsData);
            if (msg.loadParams) writeFlat(paramVars(), s.pLayout, s.params);
            const t1 = performance.now();
            s.acc.reset();
            for (const mb of msg.mbs) accumulateMicroBatch(s.model, mb, spec.step, s.acc);
            const t2 = performance.now();
            s.acc.writeFlat(s.grads, s.pLayout.offsets);
            const { lossSum, correct, samples } = s.acc;
            s.acc.reset();
            const timing = { loadMs: t1 - t0, computeMs: t2 - t1, writeMs: performance.now() - t2 };
            send({ id: msg.id, type: 'ok', lossSum, correct, samples, timing, ...(memory.copy ? { gradsData: s.grads } : {}) });
            return;
          }
          case 'readBuffers':
            readFlat(bufVars(), s.bLayout, s.buffers);
            send({ id: msg.id, type: 'ok', ...(memory.copy ? { buffersData: s.buffers } : {}) });
            return;
        }
      } catch (e) {
        send({ id: msg.id, type: 'error', message: (e as Error).stack ?? String(e) });
      }
    });
  });
}
