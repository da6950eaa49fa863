// Shutdown as a subscriber sees it: a server going away mid-catch-up ends the subscription
// with UNAVAILABLE ("server shutting down"), never with OK, which a client of the protocol
// could take for the end of the log.

import type { ServiceError } from '@grpc/grpc-js';
import { status } from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { InMemoryEventStore } from '../../src/event-store/in-memory-event-store.ts';
import { appendMany, newTenant } from '../event-store/contract.ts';
import { serveOnLoopback } from '../event-store/grpc/loopback.ts';
import { PlainClient } from '../event-store/grpc/plain-client.ts';

describe('a server shutting down with a subscriber still catching up', () => {
  it('ends the subscription with UNAVAILABLE after the events it sent', async () => {
    const memory = new InMemoryEventStore();
    const tenantId = newTenant();
    // Far more than flow control lets through before the subscriber reads on.
    await appendMany(memory, tenantId, 'acc-1', 20_000);
    const server = await serveOnLoopback(memory, { shutdownGraceMs: 20_000 });
    const plain = new PlainClient(server.address);
    try {
      const subscription = plain.subscribe({ tenant_id: tenantId, from_global_nonce: '0' });
      let events = 0;
      let caughtUp = false;
      const ended = new Promise<string>((resolve) => {
        subscription.on('data', (response: { event?: unknown }) => {
          if (response.event === null || response.event === undefined) caughtUp = true;
          else events++;
        });
        subscription.on('error', (error: ServiceError) => resolve(`${status[error.code]}: ${error.details}`));
        subscription.on('end', () => resolve('OK'));
      });
      await new Promise((resolve) => subscription.once('data', resolve));
      subscription.pause();

      const stopped = server.stop();
      subscription.resume();
      expect(await ended).toBe('UNAVAILABLE: server shutting down');
      await stopped;
      expect(caughtUp).toBe(false);
      expect(events).toBeGreaterThan(0);
      expect(events).toBeLessThan(20_000);
    } finally {
      plain.close();
      await server.stop();
      await memory.close();
    }
  }, 60_000);
});
