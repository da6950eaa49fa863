// Bench row: what the memory backend holds per small event, measured in a server child that
// received the events one append at a time over gRPC, as commands send them.

import { performance } from 'node:perf_hooks';
import { GrpcEventStore } from '../src/event-store/grpc-event-store.ts';
import { ask, startListeningChild } from './children.ts';
import type { HeldBytes } from './memory-server.ts';
import { progress, SIZES, timeMs } from './measure.ts';
import type { Report } from './report.ts';
import { depositAppend } from './workload.ts';

const IN_FLIGHT = 32;
/** Events per stream before a writer moves to a new account. */
const STREAM_LENGTH = 100;

export async function memoryBytesRow(report: Report, messageBytes: number): Promise<void> {
  progress('memory backend: starting the probe (server child with --expose-gc)');
  const probe = await startListeningChild({ script: 'bench/memory-server.ts', nodeFlags: ['--expose-gc'], ipc: true });
  const client = await GrpcEventStore.connect({ address: probe.address });
  try {
    /** Appends up to `count` events, one per call, until `untilMs` on performance.now()'s clock; resolves with how many. */
    const appendAll = async (tenantId: string, count: number, untilMs = Number.POSITIVE_INFINITY): Promise<number> => {
      let appended = 0;
      const writer = async (worker: number): Promise<void> => {
        // Each writer fills accounts of its own, so appends never conflict.
        for (let own = 0; worker + own * IN_FLIGHT < count && performance.now() < untilMs; own++) {
          const accountId = `w${worker}-s${Math.floor(own / STREAM_LENGTH)}`;
          await client.append(depositAppend({ tenantId, accountId, expectedVersion: own % STREAM_LENGTH }));
          appended++;
        }
      };
      await Promise.all(Array.from({ length: IN_FLIGHT }, (_, worker) => writer(worker)));
      return appended;
    };
    // Connections, code and the server's own structures settle first, outside the measurement.
    await appendAll('warm-up', 5_000);
    const before = held(await ask(probe, { measure: true }));
    progress(`memory backend: appending up to ${SIZES.memoryEvents} small events one per call, ${IN_FLIGHT} in flight, for at most ${SIZES.memorySeconds} s`);
    const { ms, result: count } = await timeMs(() => appendAll('bytes-per-event', SIZES.memoryEvents, performance.now() + SIZES.memorySeconds * 1000));
    const after = held(await ask(probe, { measure: true }));
    const heapPerEvent = (after.heapUsed - before.heapUsed) / count;
    const buffersPerEvent = (after.arrayBuffers - before.arrayBuffers) / count;
    report.note(`memory backend per event: ${heapPerEvent.toFixed(0)} bytes of JS heap + ${buffersPerEvent.toFixed(0)} bytes of buffers (${count} events, appended at ${Math.round((count / ms) * 1000)}/s)`);
    report.figure({
      key: 'memory_backend_bytes_per_event',
      label: 'memory backend, bytes held per small event',
      value: heapPerEvent + buffersPerEvent,
      unit: 'bytes',
      floor: { label: 'AppendRequest bytes on the wire', value: messageBytes },
      target: { on: 'value', op: '<=', bound: 500 },
    });
  } finally {
    await client.close();
    await probe.stop();
  }
}

function held(reply: unknown): HeldBytes {
  if (typeof reply !== 'object' || reply === null || !('heapUsed' in reply) || !('arrayBuffers' in reply)) {
    throw new Error(`the memory probe answered ${JSON.stringify(reply)}`);
  }
  const { heapUsed, arrayBuffers } = reply;
  if (typeof heapUsed !== 'number' || typeof arrayBuffers !== 'number') throw new Error(`the memory probe answered ${JSON.stringify(reply)}`);
  return { heapUsed, arrayBuffers };
}
