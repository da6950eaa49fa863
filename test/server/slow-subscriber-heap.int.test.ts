// Flow control towards slow subscribers: a projection that stops reading must cost the
// server a bounded amount of memory, however long the log it has yet to receive.

import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PlainClient } from '../event-store/grpc/plain-client.ts';
import { forkHeapProbe, stopHeapProbe } from './fixtures/heap-probe.ts';

const EVENTS = 200_000;
const TENANT = 'heap-probe';
/** Generous: the whole backlog buffered would be hundreds of megabytes. */
const BOUND_BYTES = 64 * 1024 * 1024;

describe('a slow subscriber over a long log', () => {
  let probe: ChildProcess | undefined;
  let port = 0;
  let baseline = 0;

  beforeAll(async () => {
    probe = forkHeapProbe({ PROBE_TENANT: TENANT, PROBE_EVENTS: String(EVENTS) });
    const ready = await reply(probe);
    port = ready.port ?? 0;
    baseline = ready.heapUsed;
  }, 120_000);

  afterAll(() => stopHeapProbe(probe));

  it('keeps the server heap bounded while the subscriber stalls, then delivers every event', async () => {
    const client = new PlainClient(`127.0.0.1:${port}`);
    // Responses stay undecoded bytes: the test is about the server, not the client's decoder.
    const call = client.subscribe({ tenant_id: TENANT }, (bytes) => bytes);
    try {
      const iterator = call[Symbol.asyncIterator]();
      for (let i = 0; i < 1_000; i++) await iterator.next();
      call.pause();

      const growth: number[] = [];
      for (let sample = 0; sample < 4; sample++) {
        await new Promise((resolve) => setTimeout(resolve, 750));
        growth.push((await heapOf(probe)) - baseline);
      }
      expect(Math.max(...growth)).toBeLessThan(BOUND_BYTES);

      call.resume();
      let events = 1_000;
      for (;;) {
        const next = await iterator.next();
        if (next.done === true) throw new Error(`the stream ended after ${events} events`);
        if (isEmptyResponse(next.value)) break;
        events++;
      }
      expect(events).toBe(EVENTS);
    } finally {
      call.cancel();
      client.close();
    }
  }, 120_000);
});

// ---- fixtures -------------------------------------------------------------------------

interface ProbeReply {
  readonly heapUsed: number;
  readonly port?: number;
}

async function heapOf(probe: ChildProcess | undefined): Promise<number> {
  if (probe === undefined) throw new Error('the probe server did not start');
  const answer = reply(probe);
  probe.send('heap');
  return (await answer).heapUsed;
}

async function reply(probe: ChildProcess): Promise<ProbeReply> {
  const [message]: unknown[] = await once(probe, 'message');
  if (typeof message !== 'object' || message === null || !('heapUsed' in message) || typeof message.heapUsed !== 'number') {
    throw new Error(`unexpected reply from the probe: ${JSON.stringify(message)}`);
  }
  const port = 'port' in message && typeof message.port === 'number' ? message.port : undefined;
  return { heapUsed: message.heapUsed, ...(port === undefined ? {} : { port }) };
}

/** A SubscribeResponse with `event` unset encodes to no bytes at all. */
function isEmptyResponse(response: unknown): boolean {
  return response instanceof Buffer && response.byteLength === 0;
}
