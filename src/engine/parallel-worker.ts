// A data-parallel replica (see parallel.ts): builds its own copy of the model on its own
// tfjs backend, then serves the lead's requests one at a time, in order.
import { parentPort, workerData } from 'node:worker_threads';
import { selectBackend } from './backend.ts';
import { createResNet } from '../model/resnet.ts';
import { accumulateMicroBatch, GradAccumulator, type MicroBatch } from '../train/step.ts';
import { flatLayout, readFlat, writeFlat, type ReplicaSpec } from './parallel.ts';

interface Data {
  spec: ReplicaSpec;
  index: number;
  params: SharedArrayBuffer;
  grads: SharedArrayBuffer;
  buffers: SharedArrayBuffer;
}
const data = workerData as Data;
const port = parentPort!;

const ready = (async () => {
  await selectBackend(data.spec.backend, { log: () => {} });
  // The weights come from the lead (syncAll); init 'none' skips the random init's cost.
  const model = createResNet(data.spec.arch, { ...data.spec.modelOptions, init: 'none' });
  const pLayout = flatLayout(model.parameters.map((p) => p.shape));
  const bLayout = flatLayout(model.buffers.map((b) => b.shape));
  return {
    model,
    pLayout,
    bLayout,
    params: new Float32Array(data.params),
    grads: new Float32Array(data.grads),
    buffers: new Float32Array(data.buffers),
    acc: new GradAccumulator(),
  };
})();

type Msg = { id: number; type: 'init' } | { id: number; type: 'load'; params: boolean; buffers: boolean } | { id: number; type: 'grads'; loadParams: boolean; mbs: MicroBatch[] } | { id: number; type: 'readBuffers' };

let queue: Promise<void> = Promise.resolve();
port.on('message', (msg: Msg) => {
  queue = queue.then(async () => {
    try {
      const s = await ready;
      const params = () => s.model.trainableVariables;
      const bufs = () => s.model.buffers.map((b) => b.variable);
      switch (msg.type) {
        case 'init':
          port.postMessage({ id: msg.id, type: 'ok' });
          return;
        case 'load':
          if (msg.params) writeFlat(params(), s.pLayout, s.params);
          if (msg.buffers) writeFlat(bufs(), s.bLayout, s.buffers);
          port.postMessage({ id: msg.id, type: 'ok' });
          return;
        case 'grads': {
          const t0 = performance.now();
          if (msg.loadParams) writeFlat(params(), s.pLayout, s.params);
          const t1 = performance.now();
          s.acc.reset();
          for (const mb of msg.mbs) accumulateMicroBatch(s.model, mb, data.spec.step, s.acc);
          const t2 = performance.now();
          s.acc.writeFlat(s.grads, s.pLayout.offsets);
          const { lossSum, correct, samples } = s.acc;
          s.acc.reset();
          const timing = { loadMs: t1 - t0, computeMs: t2 - t1, writeMs: performance.now() - t2 };
          port.postMessage({ id: msg.id, type: 'ok', lossSum, correct, samples, timing });
          return;
        }
        case 'readBuffers':
          readFlat(bufs(), s.bLayout, s.buffers);
          port.postMessage({ id: msg.id, type: 'ok' });
          return;
      }
    } catch (e) {
      port.postMessage({ id: msg.id, type: 'error', message: (e as Error).stack ?? String(e) });
    }
  });
});
