// The event store server as people run it (`pnpm event-store`): a process configured by
// its environment that says where it listens and stops cleanly on SIGINT or SIGTERM.

import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { GrpcEventStore } from '../../src/event-store/grpc-event-store.ts';
import { account, newEvent, newTenant } from '../event-store/contract.ts';
import { PlainClient } from '../event-store/grpc/plain-client.ts';
import { listeningAddress, startServer } from './fixtures/server-process.ts';

describe('the event store server process', () => {
  it.each(['SIGTERM', 'SIGINT'] as const)('serves on BIND_ADDR, logs where, and exits 0 on %s with a subscription open', async (signal) => {
    const server = startServer({ BIND_ADDR: '127.0.0.1:0' });
    try {
      const address = await listeningAddress(server);
      expect(server.output()).toMatch(/listening on 127\.0\.0\.1:\d+ \(backend: memory\)/);
      const store = await GrpcEventStore.connect({ address });
      const tenantId = newTenant();
      await store.append({ tenantId, stream: account('acc-1'), expectedVersion: 0, events: [newEvent()] });
      await store.close();

      const plain = new PlainClient(address);
      const subscription = plain.subscribe({ tenant_id: tenantId });
      const ended = new Promise<string>((resolve) => {
        subscription.on('data', () => undefined);
        subscription.on('end', () => resolve('ended cleanly'));
        subscription.on('error', (error) => resolve(`failed: ${error.message}`));
      });
      await once(subscription, 'data');

      const exited = once(server.child, 'exit');
      server.child.kill(signal);
      expect(await ended).toBe('ended cleanly');
      expect((await exited)[0]).toBe(0);
      plain.close();
    } finally {
      server.stop();
    }
  });

  it('refuses an unknown BACKEND with a clear message and a non-zero exit', async () => {
    const server = startServer({ BIND_ADDR: '127.0.0.1:0', BACKEND: 'bogus' });
    try {
      const [code] = await once(server.child, 'exit');
      expect(code).not.toBe(0);
      expect(server.output()).toMatch(/unknown BACKEND "bogus": expected one of memory, postgres/);
    } finally {
      server.stop();
    }
  });
});
