// Test support: a TCP proxy on loopback between a client and a server, under the test's
// control. Cutting its connections is how a test loses an answer on the way back, or
// takes a server away from a client, without timing anything.

import { createServer, connect } from 'node:net';
import type { Socket } from 'node:net';

export interface TcpProxy {
  /** `127.0.0.1:PORT`, for the client to dial instead of the target. */
  readonly address: string;
  /** Destroys every open connection in both directions; new ones are still accepted. */
  cut(): void;
  /** From now on, new connections are closed at once (while true) or forwarded again. */
  refuse(refusing: boolean): void;
  /** How many connections it has accepted so far. */
  accepted(): number;
  /** Stops listening and cuts whatever is still open. */
  close(): Promise<void>;
}

export async function startTcpProxy(target: { readonly host: string; readonly port: number }): Promise<TcpProxy> {
  const open = new Set<Socket>();
  let refusing = false;
  let accepted = 0;
  const track = (socket: Socket): void => {
    open.add(socket);
    socket.once('close', () => open.delete(socket));
    socket.on('error', () => socket.destroy());
  };
  const server = createServer((client) => {
    accepted++;
    track(client);
    if (refusing) {
      client.destroy();
      return;
    }
    const upstream = connect(target.port, target.host);
    track(upstream);
    client.pipe(upstream);
    upstream.pipe(client);
    client.once('close', () => upstream.destroy());
    upstream.once('close', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const bound = server.address();
  if (bound === null || typeof bound === 'string') throw new Error('the proxy has no port');
  const cut = (): void => {
    for (const socket of open) socket.destroy();
  };
  return {
    address: `127.0.0.1:${bound.port}`,
    cut,
    refuse: (value) => (refusing = value),
    accepted: () => accepted,
    close: async () => {
      cut();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A proxy in front of the database at `databaseUrl`, and the URL that reaches it through the proxy. */
export async function proxyDatabase(databaseUrl: string): Promise<{ readonly proxy: TcpProxy; readonly connectionString: string }> {
  const direct = new URL(databaseUrl);
  const proxy = await startTcpProxy({ host: direct.hostname, port: Number(direct.port || 5432) });
  const proxied = new URL(databaseUrl);
  proxied.host = proxy.address;
  return { proxy, connectionString: proxied.href };
}
