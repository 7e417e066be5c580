// A data-parallel replica in its own process (see parallel.ts, replica-server.ts): one per
// GPU, because CUDA takes its devices from the process environment (CUDA_VISIBLE_DEVICES,
// set by the lead for each child). Tensors travel in IPC messages (structured clone).
import { serveReplica, type ReplicaRequest } from './replica-server.ts';
import type { ReplicaSpec } from './parallel.ts';

const raw = process.env.RSB_REPLICA_SPEC;
if (!raw || !process.send) {
  console.error('parallel-process.ts is started by src/engine/parallel.ts (needs RSB_REPLICA_SPEC and an IPC channel)');
  process.exit(2);
}
const spec = JSON.parse(raw) as ReplicaSpec;
// The lead going away (crash, kill -9) closes the channel: stop rather than linger.
process.on('disconnect', () => process.exit(0));
serveReplica(
  spec,
  { params: null, grads: null, buffers: null, copy: true },
  (h) => process.on('message', (m) => h(m as ReplicaRequest)),
  (m) => process.send!(m),
);
