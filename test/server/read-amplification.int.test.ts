// Read amplification: several callers reading a stream of large events at once must cost
// the server a few pages each, never a copy of the stream each (the response byte budget),
// and every read must succeed, page by page.

import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { status } from '@grpc/grpc-js';
import { PlainClient } from '../event-store/grpc/plain-client.ts';
import { forkHeapProbe, stopHeapProbe } from './fixtures/heap-probe.ts';

const EVENTS = 40;
const PAYLOAD_BYTES = 1024 * 1024;
const READERS = 6;
const TENANT = 'read-amplification';
/**
 * Generous: with the budget the peak grew some 40 MB on the machine this was written on;
 * without it, each reader's page holding the whole stream, some 270 MB.
 */
const BOUND_BYTES = 128 * 1024 * 1024;

describe('several callers reading a stream of large events at once', () => {
  let probe: ChildProcess | undefined;
  let port = 0;

  beforeAll(async () => {
    probe = forkHeapProbe({ PROBE_TENANT: TENANT, PROBE_EVENTS: String(EVENTS), PROBE_PAYLOAD_BYTES: String(PAYLOAD_BYTES) });
    const [ready]: unknown[] = await once(probe, 'message');
    port = typeof ready === 'object' && ready !== null && 'port' in ready && typeof ready.port === 'number' ? ready.port : 0;
  }, 120_000);

  afterAll(() => stopHeapProbe(probe));

  it('stays under a memory bound while each reader gets every event, a page at a time', async () => {
    const before = await peakRss(probe);
    const clients = Array.from({ length: READERS }, () => new PlainClient(`127.0.0.1:${port}`));
    try {
      const reads = await Promise.all(clients.map((client) => readAll(client)));
      for (const read of reads) {
        expect(read.versions).toEqual(Array.from({ length: EVENTS }, (_, index) => index + 1));
        // A 1 MiB event is past the default budget of 1 MiB with its metadata: one per page.
        expect(read.pages).toBe(EVENTS);
      }
    } finally {
      for (const client of clients) client.close();
    }
    expect((await peakRss(probe)) - before).toBeLessThan(BOUND_BYTES);
  }, 120_000);
});

// ---- fixtures -------------------------------------------------------------------------

async function readAll(client: PlainClient): Promise<{ versions: number[]; pages: number }> {
  const versions: number[] = [];
  let pages = 0;
  let from = '1';
  for (;;) {
    const outcome = await client.readStream({ tenant_id: TENANT, aggregate_id: 'probe-1', from_aggregate_nonce: from, max_count: 0, forward: true });
    if (!outcome.ok) throw new Error(`page ${pages + 1} failed: ${status[outcome.error.code]}: ${outcome.error.details}`);
    pages++;
    const page = outcome.response as { events: Array<{ meta: { aggregate_nonce: string }; payload: Buffer }>; is_end: boolean; next_from_aggregate_nonce: string };
    for (const event of page.events) {
      expect(event.payload.byteLength).toBe(PAYLOAD_BYTES);
      versions.push(Number(event.meta.aggregate_nonce));
    }
    if (page.is_end) return { versions, pages };
    from = page.next_from_aggregate_nonce;
  }
}

async function peakRss(probe: ChildProcess | undefined): Promise<number> {
  if (probe === undefined) throw new Error('the probe server did not start');
  const answer = once(probe, 'message');
  probe.send('peak');
  const [message]: unknown[] = await answer;
  if (typeof message !== 'object' || message === null || !('peakRssBytes' in message) || typeof message.peakRssBytes !== 'number') {
    throw new Error(`unexpected reply from the probe: ${JSON.stringify(message)}`);
  }
  return message.peakRssBytes;
}
