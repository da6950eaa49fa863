// Test support: an event store server on a free loopback port, with its log kept for
// assertions and a handle that stops it, so every test cleans up what it started.

import { createServer } from 'node:net';
import type { EventStore } from '../../../src/event-store/event-store.ts';
import { buildServer } from '../../../src/server/build-server.ts';
import type { ServerOptions } from '../../../src/server/build-server.ts';

export interface LoopbackServer {
  readonly address: string;
  readonly port: number;
  /** The lines the server logged (one per failed call). */
  readonly log: string[];
  stop(): Promise<void>;
}

/** Port 0 picks a free port; pass a port to come back on the same one after a restart. */
export async function serveOnLoopback(store: EventStore, options: ServerOptions & { port?: number } = {}): Promise<LoopbackServer> {
  const log: string[] = [];
  const served = buildServer(store, { log: (line) => log.push(line), shutdownGraceMs: 2_000, ...options });
  const port = await served.listen(`127.0.0.1:${options.port ?? 0}`);
  return { address: `127.0.0.1:${port}`, port, log, stop: () => served.shutdown() };
}

/** A loopback port that was free a moment ago, so nothing answers there. */
export async function unusedPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const address = probe.address();
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}
