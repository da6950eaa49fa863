// The event store server as people run it (`pnpm event-store`): a process configured by
// its environment that says where it listens and stops cleanly on SIGINT or SIGTERM, telling
// its subscribers it is going away rather than that the log has ended.

import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { GrpcEventStore } from '../../src/event-store/grpc-event-store.ts';
import { account, newEvent, newTenant } from '../event-store/contract.ts';
import { PlainClient } from '../event-store/grpc/plain-client.ts';
import { run } from '../support/child-process.ts';
import { startServerProcess } from '../support/server-process.ts';

describe('the event store server process', () => {
  it.each(['SIGTERM', 'SIGINT'] as const)('serves on BIND_ADDR, logs where, and exits 0 on %s, ending an open subscription with UNAVAILABLE', async (signal) => {
    const server = await startServerProcess({});
    try {
      expect(server.output()).toMatch(/listening on 127\.0\.0\.1:\d+ \(backend: memory\)/);
      const store = await GrpcEventStore.connect({ address: server.address });
      const tenantId = newTenant();
      await store.append({ tenantId, stream: account('acc-1'), expectedVersion: 0, events: [newEvent()] });
      await store.close();

      const plain = new PlainClient(server.address);
      const subscription = plain.subscribe({ tenant_id: tenantId });
      const ended = new Promise<string>((resolve) => {
        subscription.on('data', () => undefined);
        subscription.on('end', () => resolve('ended with OK'));
        subscription.on('error', (error) => resolve(`failed: ${error.message}`));
      });
      await new Promise((resolve) => subscription.once('data', resolve));

      const exit = server.stop(signal);
      expect(await ended).toBe('failed: 14 UNAVAILABLE: server shutting down');
      expect(await exit).toEqual({ code: 0, signal: null });
      plain.close();
    } finally {
      await server.stop('SIGKILL');
    }
  });

  it("says a port already taken is in use, without grpc-js's own log line, and exits 1", async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    try {
      const bound = taken.address();
      if (bound === null || typeof bound === 'string') throw new Error('no port');
      const { port } = bound;
      const result = await run(process.execPath, ['--import', 'tsx', 'src/server/main.ts'], { env: { BIND_ADDR: `127.0.0.1:${port}` }, timeoutMs: 30_000 });
      expect(result.code, result.stdout + result.stderr).toBe(1);
      expect(result.stderr).toContain(`event store server: cannot listen on 127.0.0.1:${port}: the port is in use`);
      expect(result.stderr).not.toContain('No address added'); // grpc-js's "E No address added out of total 1 resolved"
      expect(result.stderr.trim().split('\n')).toHaveLength(1);
    } finally {
      await new Promise((resolve) => taken.close(resolve));
    }
  });

  it('refuses an unknown BACKEND with a clear message and a non-zero exit', async () => {
    await expect(startServerProcess({ BACKEND: 'bogus' })).rejects.toThrow(/exited \([1-9]\d*\)[\s\S]*unknown BACKEND "bogus": expected one of memory, postgres/);
  });
});
