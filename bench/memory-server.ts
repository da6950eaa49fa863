// Bench probe: the memory backend served over gRPC exactly as `pnpm event-store` serves it,
// in a child started with --expose-gc that, asked over IPC, reports what it holds after a
// full collection: how many bytes a stored event really costs, buffers included.

import { InMemoryEventStore } from '../src/event-store/in-memory-event-store.ts';
import { buildServer } from '../src/server/build-server.ts';

export interface HeldBytes {
  readonly heapUsed: number;
  readonly arrayBuffers: number;
}

const collect = globalThis.gc;
if (collect === undefined) {
  console.error('memory probe: start node with --expose-gc');
  process.exit(2);
}

const store = new InMemoryEventStore();
const served = buildServer(store, { log: () => {} });
const port = await served.listen(process.env.BIND_ADDR || '127.0.0.1:0');
console.log(`memory probe listening on 127.0.0.1:${port}`);

process.on('message', () => {
  // Twice: the first collection may only queue finalizers whose memory the second frees.
  collect();
  collect();
  const { heapUsed, arrayBuffers } = process.memoryUsage();
  const held: HeldBytes = { heapUsed, arrayBuffers };
  process.send?.(held);
});
// The bench went away (or is done): so does the probe.
process.on('disconnect', () => process.exit(0));
