// Health on failures: a call that fails as in an outage has the storage probed at once, so
// the health service says NOT_SERVING without waiting for the next background probe.

import { Client, credentials } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StoreUnavailableError } from '../../src/event-store/errors.ts';
import type { EventStore } from '../../src/event-store/event-store.ts';
import type { StorageProbe } from '../../src/server/health.ts';
import { newTenant } from '../event-store/contract.ts';
import { serveOnLoopback } from '../event-store/grpc/loopback.ts';
import type { LoopbackServer } from '../event-store/grpc/loopback.ts';
import { PlainClient } from '../event-store/grpc/plain-client.ts';
import { healthOf } from '../support/health.ts';
import { until } from '../support/until.ts';

describe('a server whose storage fails between two background probes', () => {
  let down = false;
  let probes = 0;
  let server: LoopbackServer | undefined;
  let health: Client | undefined;
  beforeAll(async () => {
    // An hour between background probes: only a failed call can have the storage probed.
    server = await serveOnLoopback(failingWhileDown, { health: { probe, intervalMs: 3_600_000 } });
    health = new Client(server.address, credentials.createInsecure());
  });
  afterAll(async () => {
    health?.close();
    await server?.stop();
  });

  it('probes at the failure and says NOT_SERVING', async () => {
    expect(await healthOf(health, '')).toBe('SERVING');
    down = true;
    const plain = new PlainClient(server?.address ?? expect.fail('no server'));
    try {
      const outcome = await plain.readStream({ tenant_id: newTenant(), aggregate_id: 'acc-1', from_aggregate_nonce: '0', max_count: 0, forward: true });
      expect(outcome.ok ? 'served' : outcome.error.details).toMatch(/^the event store cannot reach its storage right now/);
    } finally {
      plain.close();
    }
    await until(async () => (await healthOf(health, '')) === 'NOT_SERVING', 'health NOT_SERVING');
    expect(await healthOf(health, 'eventstore.v1.EventStore')).toBe('NOT_SERVING');
    expect(probes).toBe(1);
  });

  // ---- fixtures -----------------------------------------------------------------------

  const probe: StorageProbe = {
    ping: async () => {
      probes++;
      if (down) throw new Error('connect ECONNREFUSED 10.0.0.5:5432');
    },
    close: async () => {},
  };

  const unavailable = (): Promise<never> => Promise.reject(new StoreUnavailableError('PostgreSQL at 10.0.0.5:5432/bank is unavailable'));
  const failingWhileDown: EventStore = {
    append: unavailable,
    readStream: unavailable,
    subscribe: async function* () {
      yield* [];
      throw new StoreUnavailableError('down');
    },
    close: async () => {},
  };
});
