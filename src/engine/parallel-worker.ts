// A data-parallel replica in a worker thread (see parallel.ts, replica-server.ts): its
// parameters, gradients and BN buffers live in SharedArrayBuffers shared with the lead.
import { parentPort, workerData } from 'node:worker_threads';
import { serveReplica, type ReplicaRequest } from './replica-server.ts';
import type { ReplicaSpec } from './parallel.ts';

const data = workerData as { spec: ReplicaSpec; params: SharedArrayBuffer; grads: SharedArrayBuffer; buffers: SharedArrayBuffer };
const port = parentPort!;
serveReplica(
  data.spec,
  { params: new Float32Array(data.params), grads: new Float32Array(data.grads), buffers: new Float32Array(data.buffers), copy: false },
  (h) => port.on('message', (m: ReplicaRequest) => h(m)),
  (m) => port.postMessage(m),
);
